import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from '@jest/globals';
import { waitFor } from '../../../packages/platform/test/support/wait.js';
import { LISTED_ACCOUNTS } from '../src/reactions/access.js';
import { runtimeOf } from '../src/runtime.js';
import { event, notificationsWithSmtp, SYSTEM, userCreated } from './support/system.js';

// P4 (issue 19): one person given many accounts in one operation gets one e-mail naming them, not one per account.
describe('bulk access: one e-mail per person per operation (P4, N3; Postgres + real SMTP)', () => {
  const running = notificationsWithSmtp();
  const tenantId = randomUUID();

  async function personWithAccounts(email: string, accounts: number) {
    const person = userCreated(tenantId, { firstName: 'Cora', email });
    await running.system.publish(person);
    const accountIds = Array.from({ length: accounts }, () => randomUUID());
    for (const [i, accountId] of accountIds.entries()) {
      await running.system.publish(event('account.created', tenantId, accountId, { accountId, parentId: null, name: `Client ${String(i).padStart(3, '0')}`, kind: 'client_account', actor: SYSTEM }));
    }
    await waitFor('the projections', async () => (await running.system.service.ctx.prisma.accountProjection.count({ where: { tenantId } })) >= accounts
      && running.system.service.ctx.prisma.personProjection.findUnique({ where: { id: person.data.personId } }));
    return { personId: person.data.personId, accountIds };
  }

  const grantsOf = (personId: string, accountIds: string[], operationId: string) => accountIds.map((accountId, i) => event('access.granted', tenantId, personId, {
    personId, accountId, roleKey: i % 2 ? 'manager' : 'standard', grantsToPerson: accountIds.length, actor: SYSTEM,
  }, { correlationId: operationId }));

  it('60 grants in one operation, each delivered twice: one e-mail naming 50 accounts and counting the rest; nothing left waiting', async () => {
    const { personId, accountIds } = await personWithAccounts('cora@bulk.example', 60);
    const operationId = randomUUID();
    const grants = grantsOf(personId, accountIds, operationId);
    await running.system.publish(...grants, ...grants);
    const mail = await waitFor('the summary e-mail', () => running.smtp.received.find((m) => m.to.includes('cora@bulk.example')));
    assert.equal(mail.subject, 'You have access to 60 accounts');
    assert.match(mail.text, /- Client 000 as standard\n- Client 001 as manager\n/);
    assert.equal((mail.text.match(/^- Client/gm) ?? []).length, LISTED_ACCOUNTS);
    assert.match(mail.text, /… and 10 more\./);
    // Every membership is in the projection the managers are found with, and the waiting rows are gone.
    await waitFor('the memberships', async () => (await running.system.service.ctx.prisma.personMembership.count({ where: { personId, accountId: { in: accountIds } } })) === 60);
    await new Promise((r) => setTimeout(r, 300)); // any second e-mail would be queued by now
    assert.equal(running.smtp.received.filter((m) => m.to.includes('cora@bulk.example')).length, 1);
    assert.equal(await running.system.service.ctx.prisma.message.count({ where: { recipientPersonId: personId } }), 1);
    assert.equal(await running.system.service.ctx.prisma.accessNotice.count({ where: { personId } }), 0);
    assert.equal(await running.system.service.ctx.prisma.accessNoticeGrant.count({ where: { personId } }), 0);
  });

  it('waits for the last grant: nothing is sent while one is missing; a single grant still gets its own e-mail', async () => {
    const { personId, accountIds } = await personWithAccounts('dora@bulk.example', 3);
    const grants = grantsOf(personId, accountIds, randomUUID());
    // The sender is woken by a batch that queued a message, not by one that did not (each wake is a claim).
    const { sender } = runtimeOf(running.system.service.ctx);
    const nudge = sender.nudge.bind(sender);
    let wakes = 0;
    sender.nudge = () => (wakes++, nudge());
    try {
      await running.system.publish(grants[0]!, grants[2]!);
      await waitFor('two grants waiting', async () => (await running.system.service.ctx.prisma.accessNoticeGrant.count({ where: { personId } })) === 2);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(running.smtp.received.filter((m) => m.to.includes('dora@bulk.example')).length, 0, 'no e-mail before the last grant');
      assert.equal(wakes, 0, 'grants that queue nothing do not wake the sender');
      await running.system.publish(grants[1]!);
      await waitFor('the sender woken by the batch that queued the e-mail', () => wakes > 0);
    } finally {
      sender.nudge = nudge;
    }
    const mail = await waitFor('the summary e-mail', () => running.smtp.received.find((m) => m.to.includes('dora@bulk.example')));
    assert.equal(mail.subject, 'You have access to 3 accounts');
    assert.doesNotMatch(mail.text, /more\./);

    const [accountId] = accountIds;
    const single = event('access.granted', tenantId, personId, { personId, accountId: accountId!, roleKey: 'staff', actor: SYSTEM });
    await running.system.publish(single);
    await waitFor('the single e-mail', () => running.smtp.received.find((m) => m.to.includes('dora@bulk.example') && m.subject === 'You have access to Client 000'));
  });
  it('grants handled before their person (on Kafka another topic) apply their memberships at once and send their e-mails once the person is known', async () => {
    const person = userCreated(tenantId, { firstName: 'Gil', email: 'gil@bulk.example' });
    const { personId } = person.data;
    const [single, bulkA, bulkB] = [randomUUID(), randomUUID(), randomUUID()];
    for (const [accountId, name] of [[single, 'Client Early'], [bulkA, 'Client Bulk A'], [bulkB, 'Client Bulk B']] as const) {
      await running.system.publish(event('account.created', tenantId, accountId, { accountId, parentId: null, name, kind: 'client_account', actor: SYSTEM }));
    }
    await running.system.publish(
      event('access.granted', tenantId, personId, { personId, accountId: single, roleKey: 'staff', actor: SYSTEM }),
      ...grantsOf(personId, [bulkA, bulkB], randomUUID()),
    );
    const { prisma } = running.system.service.ctx;
    await waitFor('the memberships, before the person', async () => (await prisma.personMembership.count({ where: { personId } })) === 3);
    await waitFor('two grants waiting for the person', async () => (await prisma.eventAwaitingPerson.count({ where: { personId } })) === 2);
    assert.equal(running.smtp.received.filter((m) => m.to.includes('gil@bulk.example')).length, 0);
    await running.system.publish(person);
    await waitFor('both e-mails once the person is known', () => running.smtp.received.filter((m) => m.to.includes('gil@bulk.example')).length === 2);
    const subjects = running.smtp.received.filter((m) => m.to.includes('gil@bulk.example')).map((m) => m.subject).sort();
    assert.deepEqual(subjects, ['You have access to 2 accounts', 'You have access to Client Early']);
    assert.equal(await prisma.eventAwaitingPerson.count({ where: { personId } }), 0);
    assert.equal(await prisma.accessNoticeGrant.count({ where: { personId } }), 0);
  });
});
