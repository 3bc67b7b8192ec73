import { randomUUID } from 'node:crypto';
import { expectedStepsFor, type Actor, type PersonKind } from '@roster/contracts';
import { runInWork, currentWork } from '@roster/platform/context';
import { badRequest, notFound } from '@roster/platform/http/problem';
import { eventFor, stageEvents } from '@roster/platform/outbox';
import type { DirectoryDb, DirectoryTx } from '../db/client.js';
import { decideLifecycle, type LifecycleCommand, type PersonStatus } from './person.js';

export interface NewPerson {
  kind: PersonKind;
  firstName: string;
  lastName: string;
  email?: string | undefined;
  phone?: string | undefined;
  accountId: string;
  roleKey?: string | undefined;
}

export type PersonRow = Awaited<ReturnType<DirectoryDb['person']['findUniqueOrThrow']>>;

/** P1: adds a client or staff member to the tenant and announces it (`user.created`, version 1). */
export async function createPerson(db: DirectoryDb, tenantId: string, input: NewPerson, actor: Actor): Promise<PersonRow> {
  const roleKey = input.roleKey ?? (input.kind === 'staff' ? 'staff' : null);
  return db.$transaction(async (tx) => {
    const person = await tx.person.create({
      data: {
        id: randomUUID(), tenantId, kind: input.kind, firstName: input.firstName, lastName: input.lastName,
        email: input.email ?? null, phone: input.phone ?? null, accountId: input.accountId, roleKey, version: 1,
      },
    });
    await stageEvents(tx, [eventFor('directory', {
      type: 'user.created', subject: person.id, tenantId, subjectVersion: 1,
      data: {
        personId: person.id, kind: input.kind, firstName: person.firstName, lastName: person.lastName,
        email: person.email, phone: person.phone, accountId: person.accountId, roleKey, actor,
      },
    })]);
    return person;
  });
}

export interface LifecycleRequest {
  command: LifecycleCommand;
  reason?: string | undefined;
  dryRun?: boolean | undefined;
}

/**
 * P5 and B1: changes a person's status and starts the cascade, or (dry run) asks every service
 * what the cascade would do. Either way an operation records the cascade; its id is the
 * correlation id of every event the cascade causes, so `GET /operations/{id}` can follow it.
 */
export async function changeLifecycle(
  db: DirectoryDb, tenantId: string, personId: string, request: LifecycleRequest, actor: Actor,
): Promise<{ operationId: string }> {
  const operationId = randomUUID();
  const work = { correlationId: operationId, causationId: currentWork()?.correlationId, tenantId };
  await runInWork(work, () =>
    db.$transaction(async (tx) => {
      const person = await lockPerson(tx, tenantId, personId);
      const decision = decideLifecycle({ status: person.status as PersonStatus, version: person.version }, request.command);
      const roleKeys = person.roleKey ? [person.roleKey] : [];
      if (request.dryRun) {
        const action = request.command.type === 'deactivate' ? 'deactivate' : null;
        if (!action) throw badRequest('dryRun previews a deactivation or an archive; a reactivation has nothing to preview');
        await createOperation(tx, operationId, tenantId, `${action}:preview`, personId, true, expectedStepsFor('cascade.preview_requested'));
        await stageEvents(tx, [eventFor('directory', {
          type: 'cascade.preview_requested', subject: personId, tenantId,
          data: { action, personId, kind: person.kind as PersonKind, roleKeys },
        })]);
        return;
      }
      const updated = await tx.person.updateMany({
        where: { id: personId, tenantId, version: person.version },
        data: { status: decision.next.status, version: decision.next.version },
      });
      if (updated.count !== 1) throw new Error('person changed concurrently; retry');
      await createOperation(tx, operationId, tenantId, request.command.type, personId, false, expectedStepsFor(decision.eventType));
      await stageEvents(tx, [eventFor('directory', {
        type: decision.eventType, subject: personId, tenantId, subjectVersion: decision.next.version,
        data: { personId, kind: person.kind as PersonKind, roleKeys, reason: request.reason ?? null, actor },
      })]);
    }),
  );
  return { operationId };
}

async function lockPerson(tx: DirectoryTx, tenantId: string, personId: string): Promise<PersonRow> {
  const locked = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM person WHERE id = ${personId}::uuid AND tenant_id = ${tenantId}::uuid FOR UPDATE`;
  if (locked.length === 0) throw notFound(`person ${personId}`);
  return tx.person.findUniqueOrThrow({ where: { id: personId } });
}

async function createOperation(
  tx: DirectoryTx, id: string, tenantId: string, kind: string, subjectId: string, dryRun: boolean, expected: readonly string[],
): Promise<void> {
  await tx.operation.create({ data: { id, tenantId, kind, subjectId, dryRun, expected: [...expected], status: expected.length ? 'pending' : 'completed' } });
}
