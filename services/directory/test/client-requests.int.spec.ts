import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { createEvent } from '@roster/contracts';
import type { DeadLetter } from '@roster/platform/bus/types';
import { waitFor } from '../../../packages/platform/test/support/wait.js';
import { startDirectory, type DirectoryUnderTest } from './support/directory.js';

// S3, P9: scheduling's client-request events on the client's audit trail, once however often they
// are delivered, with who asked and who answered; a malformed one is dead-lettered with its reason.
describe('other services\' events on the audit trail: client requests, login changes (directory, Postgres)', () => {
  let d: DirectoryUnderTest;
  let t: Awaited<ReturnType<DirectoryUnderTest['tenant']>>;
  let clientId: string;
  beforeAll(async () => {
    d = await startDirectory('roster_dir_requests');
    t = await d.tenant('LeashTime');
    const res = await d.call(t.owner, 'POST', '/people', { accountId: t.rootAccountId, kind: 'client', firstName: 'Ada', lastName: 'Beagle' });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    clientId = res.body.id;
  });
  afterAll(async () => d?.stop());

  const trail = async () => (await d.call(t.owner, 'GET', `/audit?subjectId=${clientId}`)).body.items as { action: string; actor: { kind: string; personId: string | null }; detail: Record<string, unknown> }[];

  it('submitted three times and approved once: one entry each, by the client and by the manager', async () => {
    const requestId = randomUUID();
    const managerId = randomUUID();
    const submitted = createEvent('scheduling', {
      type: 'request.submitted', subject: clientId, tenantId: t.tenantId, correlationId: randomUUID(),
      data: {
        requestId, clientId, clientName: 'Ada Beagle', kind: 'visits', visitId: null, note: null, timeZone: 'UTC',
        visits: [{ startsAt: '2031-03-03T10:00:00Z', endsAt: '2031-03-03T11:00:00Z', service: null }],
        actor: { kind: 'person', personId: clientId, impersonatorId: null },
      },
    });
    const approved = createEvent('scheduling', {
      type: 'request.approved', subject: clientId, tenantId: t.tenantId, correlationId: randomUUID(),
      data: { requestId, clientId, kind: 'visits', visitIds: [randomUUID()], sitterId: null, actor: { kind: 'person', personId: managerId, impersonatorId: null } },
    });
    await d.bus.publish([submitted]);
    await Promise.all([d.bus.publish([submitted]), d.bus.publish([submitted, approved])]);
    const entries = await waitFor('both entries', async () => {
      const e = (await trail()).filter((x) => x.action.startsWith('request.'));
      return e.length >= 2 ? e : null;
    });
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await trail()).filter((x) => x.action.startsWith('request.')).length, 2, 'no entry twice');
    const by = Object.fromEntries(entries.map((e) => [e.action, e]));
    assert.equal(by['request.submitted']?.actor.personId, clientId);
    assert.equal(by['request.submitted']?.detail.requestId, requestId);
    assert.equal(by['request.approved']?.actor.personId, managerId);
  });

  it('identity\'s login.disabled: the person shows the login off, one trail line on their accounts; another tenant\'s id changes and writes nothing', async () => {
    const disabled = (personId: string, tenantId: string) => createEvent('identity', {
      type: 'login.disabled', subject: personId, tenantId, correlationId: randomUUID(),
      data: { personId, username: 'ada.beagle', actor: { kind: 'system', personId: null, impersonatorId: null } },
    });
    const other = await d.tenant('Elsewhere');
    await d.bus.publish([disabled(clientId, t.tenantId), disabled(clientId, other.tenantId)]);
    const line = await waitFor('the trail line', async () => (await trail()).find((x) => x.action === 'login.disabled') ?? null);
    assert.deepEqual(line.detail, { applied: true });
    const onAccount = (await d.call(t.owner, 'GET', `/audit?accountId=${t.rootAccountId}`)).body.items as { action: string; subjectId: string }[];
    assert.ok(onAccount.some((x) => x.action === 'login.disabled' && x.subjectId === clientId), 'the line is on the person\'s account');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await trail()).filter((x) => x.action === 'login.disabled').length, 1, 'none for the other tenant\'s copy');
    assert.equal((await d.call(t.owner, 'GET', `/people/${clientId}`)).body.loginEnabled, false);
  });

  it('a request event that breaks its schema goes to the dead letters with the reason and writes nothing', async () => {
    const bad = createEvent('scheduling', {
      type: 'request.declined', subject: clientId, tenantId: t.tenantId, correlationId: randomUUID(),
      data: { requestId: randomUUID(), clientId, kind: 'visits', reason: 'full', actor: { kind: 'system', personId: null, impersonatorId: null } },
    });
    (bad.data as { reason: unknown }).reason = '';
    const before = (await trail()).length;
    const dead: DeadLetter[] = [];
    const listening = await d.bus.consumeDeadLetters('directory', async (l) => void dead.push(l));
    await d.bus.publish([bad as never]);
    const letter = await waitFor('the dead letter', () => dead.find((l) => l.eventId === bad.id) ?? null);
    await listening.close();
    assert.match(letter.reason, /reason/);
    assert.equal((await trail()).length, before);
  });
});
