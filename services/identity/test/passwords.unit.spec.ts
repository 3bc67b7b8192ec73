// Password policy, temporary passwords and usernames (L1, L2, L3): pure rules.
import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { checkPassword, generateTemporaryPassword, PASSWORD_MAX_LENGTH } from '../src/passwords/policy.js';
import { isValidUsername, normalizeUsername, usernameCandidates } from '../src/usernames/normalize.js';
import { usernameForInvitee } from '../src/invitations/accept.js';

describe('password policy', () => {
  it('given passwords of every kind, when checked, then only a long, uncommon one without the username passes', () => {
    assert.equal(checkPassword('short', 'sam'), 'too_short');
    assert.equal(checkPassword('x'.repeat(PASSWORD_MAX_LENGTH + 1), 'sam'), 'too_long');
    assert.equal(checkPassword('password123', 'sam'), 'common');
    assert.equal(checkPassword('qwertyuiop', 'sam'), 'common');
    assert.equal(checkPassword('hello sam.sitter friend', 'sam.sitter'), 'contains_username');
    assert.equal(checkPassword('i am ivy-from-mail', 'ivy-from-mail@example.com'), 'contains_username');
    assert.equal(checkPassword('walk the dogs at dawn', 'sam.sitter'), null);
    assert.equal(checkPassword('ü'.repeat(10), 'sam'), null, 'length counts characters, not bytes');
  });

  it('temporary passwords are 16 unambiguous characters in groups, and differ', () => {
    const a = generateTemporaryPassword();
    assert.match(a, /^[A-HJ-NP-Za-km-z2-9]{4}(-[A-HJ-NP-Za-km-z2-9]{4}){3}$/);
    assert.notEqual(a, generateTemporaryPassword());
    assert.equal(checkPassword(a, 'anyone'), null, 'a generated password passes the policy');
  });
});

describe('usernames (L2)', () => {
  it('normalize with NFKC and lower case', () => {
    assert.equal(normalizeUsername('Ｊａｎｅ.DOE'), 'jane.doe');
    assert.equal(normalizeUsername(' Zoë '), 'zoë');
    assert.equal(normalizeUsername('ﬁona'), 'fiona', 'a ligature folds');
  });
  it('accept letters of any script, digits and . _ - @ +; refuse spaces and short names', () => {
    assert.ok(isValidUsername('zoë.o-brien'));
    assert.ok(isValidUsername('ivy@example.com'));
    assert.ok(!isValidUsername('no spaces'));
    assert.ok(!isValidUsername('ab'));
    assert.ok(!isValidUsername('.dot-first'));
  });
  it('candidates come from the names', () => {
    const c = usernameCandidates("Zoë", "O'Brien");
    assert.deepEqual(c.slice(0, 4), ['zoë.obrien', 'zoëobrien', 'zobrien', 'zoë.o']);
    assert.ok(c.length >= 10);
    assert.ok(c.every(isValidUsername));
  });
  it('an invitee\'s username is the e-mail, else the phone digits', () => {
    assert.deepEqual(usernameForInvitee('Ivy@Example.com', '+44 1'), { username: 'ivy@example.com', from: 'email' });
    assert.deepEqual(usernameForInvitee(null, '+44 20 7946 0958'), { username: '442079460958', from: 'phone' });
    assert.equal(usernameForInvitee(null, '12'), null);
  });
});
