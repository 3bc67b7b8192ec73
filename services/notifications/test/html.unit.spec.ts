import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { htmlOf } from '../src/messages/html.js';

// Issue 17 item 4: the HTML alternative of an e-mail says what the text says, escaped, with the main link as a button.
describe('the HTML alternative of an e-mail', () => {
  it('escapes what the text holds (a name is never markup), keeps paragraphs and line breaks, links every URL', () => {
    const html = htmlOf('Hello <script>alert(1)</script> & "Bob",\n\nsee https://example.org/help.\nThanks', 'monitor_event', null);
    assert.ok(!html.includes('<script>'));
    assert.match(html, /Hello &lt;script&gt;alert\(1\)&lt;\/script&gt; &amp; &quot;Bob&quot;,<\/p>/);
    assert.match(html, /see <a href="https:\/\/example\.org\/help">https:\/\/example\.org\/help<\/a>\.<br>Thanks/);
  });

  it('the main link is a button labelled for the message, with the address beside it for those who copy it', () => {
    const link = 'https://roster.example/invitations/abc_DEF-123/accept';
    const html = htmlOf(`You are invited.\n\nAccept here: ${link}\n\nIt expires soon.`, 'invitation', link);
    assert.match(html, /<a href="https:\/\/roster\.example\/invitations\/abc_DEF-123\/accept" style="[^"]+">Accept the invitation<\/a>/);
    assert.equal(html.split(link).length - 1, 2, 'the href and the visible address');
    assert.match(htmlOf(`Open ${link}`, 'anything', link), />Open<\/a>/);
  });
});
