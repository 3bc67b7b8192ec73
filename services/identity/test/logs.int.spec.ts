// Rule 5: secrets never reach the logs. Everything identity logs (debug level) during a full
// login flow is captured and searched for every password and token that flowed through it.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { createLogger } from '@roster/platform/logging';
import { startIdentity, type IdentityHarness } from './support/identity.js';

describe('identity logs no password and no token (rule 5)', () => {
  let h: IdentityHarness;
  const lines: string[] = [];
  const tenantId = randomUUID();

  beforeAll(async () => {
    const logger = createLogger('identity', { level: 'trace', destination: { write: (line: string) => void lines.push(line) } });
    h = await startIdentity({ logger });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('a grant, a temporary login, a password change, refreshes, a reuse, a failed login and a logout leave no secret in the log', async () => {
    const admin = h.tokens.bearer({ tenantId, roles: ['admin'] });
    const personId = await h.person({ tenantId, roleKey: 'manager' });
    const username = `logged-${personId.slice(0, 6)}`;
    const temporary = await h.grant(tenantId, personId, username, admin);
    const first = await h.call('POST', '/sessions', { username, password: temporary });
    const newPassword = 'never in any log line 7';
    const set = await h.call('PUT', '/password', { newPassword }, h.bearer(first.body.accessToken));
    assert.equal(set.status, 200);
    const r1 = await h.call('POST', '/sessions/refresh', { refreshToken: set.body.refreshToken });
    await h.call('POST', '/sessions/refresh', { refreshToken: set.body.refreshToken }); // reuse: logged as a warning
    const wrong = 'wrong guess but secret 99';
    assert.equal((await h.call('POST', '/sessions', { username, password: wrong })).status, 401);
    const again = await h.call('POST', '/sessions', { username, password: newPassword });
    await h.call('DELETE', '/sessions/current', undefined, h.bearer(again.body.accessToken));
    const permanent = 'admin chose this one 1';
    const other = await h.person({ tenantId });
    await h.call('POST', '/logins', { personId: other, username: `perm-${other.slice(0, 6)}`, password: permanent }, admin);
    await new Promise((r) => setTimeout(r, 300));

    const log = lines.join('');
    assert.ok(lines.length > 10, `the flow was logged (${lines.length} lines)`);
    assert.match(log, /login granted/);
    assert.match(log, /refresh token reused/);
    const secrets = {
      temporary, newPassword, wrong, permanent,
      firstAccess: first.body.accessToken, firstRefresh: first.body.refreshToken,
      access: set.body.accessToken, refresh: set.body.refreshToken, rotatedRefresh: r1.body.refreshToken,
      lastAccess: again.body.accessToken, adminToken: admin.authorization.slice('Bearer '.length),
    };
    for (const [name, value] of Object.entries(secrets)) {
      assert.ok(typeof value === 'string' && value.length > 8, `${name} is a real value`);
      assert.ok(!log.includes(value), `${name} appears in the log`);
      // A JWT's signature alone would also be a leak.
      if (value.split('.').length === 3) assert.ok(!log.includes(value.split('.')[2]!), `${name}'s signature appears in the log`);
    }
  });
});
