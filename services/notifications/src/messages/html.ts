/**
 * The HTML alternative of an e-mail (issue 17 item 4): the rendered text, escaped, in paragraphs,
 * with its links clickable and the message's main link — where the person is meant to go — as a
 * button. Plain markup with inline styles: mail clients ignore stylesheets and scripts.
 */
const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const URL_IN_TEXT = /https?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)]/g;
const BUTTON = 'display:inline-block;padding:10px 18px;background:#0b5cad;color:#ffffff;border-radius:6px;text-decoration:none;font-weight:600';

/** What the main link's button says, by template; others say "Open". */
const BUTTON_LABELS: Record<string, string> = {
  invitation: 'Accept the invitation',
  client_login_credentials: 'Choose your password',
  staff_login_credentials: 'Choose your password',
  new_password: 'Choose your password',
  client_request: 'Open the request',
};

export function htmlOf(text: string, template: string, mainLink: string | null): string {
  const paragraphs = text.trim().split(/\n{2,}/).map((p) => {
    let html = '';
    let last = 0;
    for (const m of p.matchAll(URL_IN_TEXT)) {
      html += escapeHtml(p.slice(last, m.index));
      const url = m[0];
      html += url === mainLink
        ? `</p><p><a href="${escapeHtml(url)}" style="${BUTTON}">${escapeHtml(BUTTON_LABELS[template] ?? 'Open')}</a></p><p style="font-size:13px;color:#57606a">${escapeHtml(url)}`
        : `<a href="${escapeHtml(url)}">${escapeHtml(url)}</a>`;
      last = m.index + url.length;
    }
    html += escapeHtml(p.slice(last));
    return `<p>${html.replace(/\n/g, '<br>')}</p>`;
  });
  return `<!doctype html><html><body style="font:15px/1.5 -apple-system,'Segoe UI',Roboto,sans-serif;color:#1b1f24">${paragraphs.join('\n')}</body></html>`;
}
