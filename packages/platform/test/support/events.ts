import { randomUUID } from 'node:crypto';
import { createEvent, type EventOf } from '@roster/contracts';

/** A valid `user.deactivated` about `subject`, for transport tests. */
export function deactivation(subject: string, version = 1, tenantId = 'tenant-test'): EventOf<'user.deactivated'> {
  return createEvent('directory', {
    type: 'user.deactivated',
    subject,
    tenantId,
    correlationId: randomUUID(),
    subjectVersion: version,
    data: {
      personId: subject,
      kind: 'staff',
      roleKeys: ['staff'],
      reason: null,
      actor: { kind: 'operator', personId: null, impersonatorId: null },
    },
  });
}

export const uniqueName = (prefix: string): string => `${prefix}-${randomUUID().slice(0, 8)}`;
