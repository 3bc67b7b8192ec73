// Issue 4, rule 7, L8: identity forgets sessions (and their refresh tokens) a retention period
// after they expired or were revoked, and login failures once their window passed; a refresh
// token of a forgotten session stays refused, and reuse detection keeps working on live ones.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { runRetention, SESSION_RETENTION_MS } from '../src/sessions/retention.js';
import { hashRefreshToken } from '../src/sessions/tokens.js';
import { startIdentity, type IdentityHarness } from './support/identity.js';

const DAY = 24 * 3_600_000;
const MINUTE = 60_000;
const ago = (ms: number) => new Date(Date.now() - ms);
const later = (ms: number) => new Date(Date.now() + ms);
const tokenHash = () => randomBytes(32).toString('hex');

describe('identity: retention of sessions, refresh tokens and login failures (Postgres)', () => {
  let h: IdentityHarness;
  const tenantId = randomUUID();
  const admin = () => h.tokens.bearer({ tenantId, roles: ['admin'] });

  beforeAll(async () => {
    h = await startIdentity();
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('one run removes exactly the sessions ended longer ago than the retention, their tokens, and stale login failures', async () => {
    const db = h.identity.ctx.prisma;
    const otherTenant = randomUUID();
    const session = (name: string, data: { expiresAt: Date; revokedAt?: Date; tenantId?: string }) => ({
      name, id: randomUUID(), tenantId: data.tenantId ?? tenantId, personId: randomUUID(), createdAt: ago(40 * DAY),
      expiresAt: data.expiresAt, revokedAt: data.revokedAt ?? null, revokedReason: data.revokedAt ? 'logout' : null,
    });
    const sessions = [
      session('expired 8 days ago', { expiresAt: ago(8 * DAY) }),
      session('expired 8 days ago, another tenant', { expiresAt: ago(8 * DAY), tenantId: otherTenant }),
      session('revoked 8 days ago, not expired', { expiresAt: later(20 * DAY), revokedAt: ago(8 * DAY) }),
      session('expired yesterday', { expiresAt: ago(DAY) }),
      session('revoked yesterday', { expiresAt: later(20 * DAY), revokedAt: ago(DAY) }),
      session('live', { expiresAt: later(20 * DAY) }),
    ];
    await db.session.createMany({ data: sessions.map(({ name: _, ...s }) => s) });
    // Each family: two rotated tokens (one rotated 25 days ago) and the current one.
    const tokens = sessions.flatMap((s) => [
      { tokenHash: tokenHash(), sessionId: s.id, createdAt: ago(30 * DAY), usedAt: ago(25 * DAY) },
      { tokenHash: tokenHash(), sessionId: s.id, createdAt: ago(25 * DAY), usedAt: ago(20 * DAY) },
      { tokenHash: tokenHash(), sessionId: s.id, createdAt: ago(20 * DAY), usedAt: null },
    ]);
    await db.refreshToken.createMany({ data: tokens });
    const throttles = [
      { key: 'u:window-passed', failures: 3, lastFailureAt: ago(16 * MINUTE), blockedUntil: null, gone: true },
      { key: 'ip:203.0.113.7', failures: 12, lastFailureAt: ago(40 * MINUTE), blockedUntil: ago(25 * MINUTE), gone: true },
      { key: 'u:window-passed-still-blocked', failures: 10, lastFailureAt: ago(16 * MINUTE), blockedUntil: later(5 * MINUTE), gone: false },
      { key: 'u:failed-a-minute-ago', failures: 2, lastFailureAt: ago(MINUTE), blockedUntil: null, gone: false },
      { key: 'u:locked-out-now', failures: 10, lastFailureAt: ago(2 * MINUTE), blockedUntil: later(13 * MINUTE), gone: false },
    ];
    await db.loginThrottle.createMany({ data: throttles.map(({ gone: _, ...t }) => t) });
    // The OpenID Provider's state (issue 17): expired rows go, live ones and those without expiry stay.
    await db.oidcModel.createMany({ data: [
      { kind: 'AccessToken', id: 'expired-1', payload: {}, expiresAt: ago(MINUTE) },
      { kind: 'Session', id: 'expired-2', payload: {}, expiresAt: ago(DAY) },
      { kind: 'Session', id: 'live', payload: {}, expiresAt: later(DAY) },
      { kind: 'Grant', id: 'no-expiry', payload: {} },
    ] });

    // Batches of 2: the backlog is removed over several statements, none left behind.
    const removed = await runRetention(db, { batchSize: 2 });

    const gone = new Set(sessions.slice(0, 3).map((s) => s.id));
    assert.deepEqual(removed, { sessions: 3, refreshTokens: 9, loginThrottles: 2, openIdState: 2 });
    assert.deepEqual((await db.oidcModel.findMany({ select: { id: true }, orderBy: { id: 'asc' } })).map((r) => r.id), ['live', 'no-expiry']);
    const keptSessions = await db.session.findMany({ select: { id: true } });
    assert.deepEqual(new Set(keptSessions.map((s) => s.id)), new Set(sessions.filter((s) => !gone.has(s.id)).map((s) => s.id)),
      'the recently ended and the live sessions stay');
    const keptTokens = await db.refreshToken.findMany({ select: { tokenHash: true } });
    assert.deepEqual(new Set(keptTokens.map((t) => t.tokenHash)), new Set(tokens.filter((t) => !gone.has(t.sessionId)).map((t) => t.tokenHash)),
      'a kept session keeps every token, rotated ones included (reuse detection needs them)');
    const keptKeys = await db.loginThrottle.findMany({ select: { key: true } });
    assert.deepEqual(new Set(keptKeys.map((t) => t.key)), new Set(throttles.filter((t) => !t.gone).map((t) => t.key)));

    assert.deepEqual(await runRetention(db), { sessions: 0, refreshTokens: 0, loginThrottles: 0, openIdState: 0 }, 'a second run finds nothing');
  });

  it('rule 7: a refresh token of a revoked session that was forgotten is refused; nothing is created, the live session goes on', async () => {
    const db = h.identity.ctx.prisma;
    const personId = await h.person({ tenantId });
    const username = `gone-${personId.slice(0, 6)}`;
    const first = await h.loginWithPassword(tenantId, personId, username, 'forget me after a week', admin());
    const rotated = await h.call('POST', '/sessions/refresh', { refreshToken: first.refreshToken });
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    assert.equal((await h.call('DELETE', '/sessions/current', undefined, h.bearer(rotated.body.accessToken))).status, 204);
    // Every session of the person so far ended more than the retention ago.
    await db.session.updateMany({ where: { personId }, data: { createdAt: ago(SESSION_RETENTION_MS + 2 * DAY), revokedAt: ago(SESSION_RETENTION_MS + DAY) } });

    await runRetention(db);
    assert.equal(await db.session.count({ where: { personId } }), 0, 'the sessions are forgotten');
    assert.equal(await db.refreshToken.count({ where: { tokenHash: { in: [first.refreshToken, rotated.body.refreshToken].map(hashRefreshToken) } } }), 0, 'and their tokens');
    const live = await h.call('POST', '/sessions', { username, password: 'forget me after a week' });
    assert.equal(live.status, 201);

    const before = await stateOf(personId);
    const since = new Date();
    assert.equal((await h.call('POST', '/sessions/refresh', { refreshToken: first.refreshToken })).status, 401, 'the rotated token, replayed');
    assert.equal((await h.call('POST', '/sessions/refresh', { refreshToken: rotated.body.refreshToken })).status, 401, 'the last token of the family');
    assert.deepEqual(await stateOf(personId), before, 'no session, no token, no revocation');
    assert.equal(await db.outboxMessage.count({ where: { subject: personId, createdAt: { gte: since } } }), 0, 'no event');
    const next = await h.call('POST', '/sessions/refresh', { refreshToken: live.body.refreshToken });
    assert.equal(next.status, 200, 'the session opened since refreshes');
  });

  it('rule 7: a token of a family that expired and was forgotten is refused, and revokes nothing', async () => {
    const db = h.identity.ctx.prisma;
    const personId = await h.person({ tenantId });
    const username = `exp-${personId.slice(0, 6)}`;
    const first = await h.loginWithPassword(tenantId, personId, username, 'expired family of tokens', admin());
    const rotated = await h.call('POST', '/sessions/refresh', { refreshToken: first.refreshToken });
    assert.equal(rotated.status, 200);
    const [family] = await db.refreshToken.findMany({ where: { tokenHash: hashRefreshToken(first.refreshToken) } });
    await db.session.update({ where: { id: family!.sessionId }, data: { createdAt: ago(SESSION_RETENTION_MS + 31 * DAY), expiresAt: ago(SESSION_RETENTION_MS + DAY) } });
    const live = await h.call('POST', '/sessions', { username, password: 'expired family of tokens' });
    assert.equal(live.status, 201);

    await runRetention(db);
    assert.equal(await db.session.count({ where: { id: family!.sessionId } }), 0, 'the expired family is forgotten');

    const before = await stateOf(personId);
    const since = new Date();
    assert.equal((await h.call('POST', '/sessions/refresh', { refreshToken: first.refreshToken })).status, 401, 'the rotated token, replayed');
    assert.equal((await h.call('POST', '/sessions/refresh', { refreshToken: rotated.body.refreshToken })).status, 401, 'the current token of the expired family');
    assert.deepEqual(await stateOf(personId), before);
    assert.equal(await db.outboxMessage.count({ where: { subject: personId, createdAt: { gte: since } } }), 0, 'no event');
    assert.equal((await h.call('GET', '/me', undefined, h.bearer(live.body.accessToken))).status, 200, 'the live session is untouched');
  });

  it('rule 7: a token rotated weeks ago in a live session survives a run, and replaying it still kills the family', async () => {
    const db = h.identity.ctx.prisma;
    const personId = await h.person({ tenantId });
    const first = await h.loginWithPassword(tenantId, personId, `old-${personId.slice(0, 6)}`, 'rotated long ago 4', admin());
    const rotated = await h.call('POST', '/sessions/refresh', { refreshToken: first.refreshToken });
    assert.equal(rotated.status, 200);
    const hash = hashRefreshToken(first.refreshToken);
    const [row] = await db.refreshToken.findMany({ where: { tokenHash: hash } });
    await db.session.update({ where: { id: row!.sessionId }, data: { createdAt: ago(25 * DAY) } });
    await db.refreshToken.update({ where: { tokenHash: hash }, data: { createdAt: ago(25 * DAY), usedAt: ago(24 * DAY) } });

    await runRetention(db);
    assert.equal(await db.refreshToken.count({ where: { tokenHash: hash } }), 1, 'kept while its family lives');

    const since = h.published.length;
    assert.equal((await h.call('POST', '/sessions/refresh', { refreshToken: first.refreshToken })).status, 401);
    const revoked = await h.next('sessions.revoked', (e) => e.data.personId === personId, since);
    assert.equal(revoked.data.reason, 'refresh_token_reused');
    assert.equal((await h.call('POST', '/sessions/refresh', { refreshToken: rotated.body.refreshToken })).status, 401, 'the whole family is dead');
  });

  /** What a refresh could have changed for the person: their sessions (and whether revoked) and tokens. */
  async function stateOf(personId: string) {
    const db = h.identity.ctx.prisma;
    const sessions = await db.session.findMany({ where: { personId }, orderBy: { id: 'asc' }, select: { id: true, revokedAt: true } });
    const tokens = await db.refreshToken.findMany({ where: { sessionId: { in: sessions.map((s) => s.id) } }, orderBy: { tokenHash: 'asc' }, select: { tokenHash: true, usedAt: true } });
    const login = await db.login.findUnique({ where: { personId }, select: { sessionsNotBefore: true } });
    return { sessions, tokens, login };
  }
});
