import type { EventOf } from '@roster/contracts';
import type { IdentityTx } from '../db/client.js';

/** P8: invitations as identity needs them to accept one (only the token's SHA-256 is known). */
export async function applyInvitationEvent(
  tx: IdentityTx, event: EventOf<'invitation.created'> | EventOf<'invitation.updated'> | EventOf<'invitation.withdrawn'>,
): Promise<void> {
  const tenantId = event.tenantid;
  switch (event.type) {
    case 'invitation.created': {
      const d = event.data;
      const fields = {
        accountId: d.accountId, roleKey: d.roleKey, tokenHash: d.tokenHash ?? null, expiresAt: new Date(d.expiresAt),
        firstName: d.invitee.firstName, lastName: d.invitee.lastName, email: d.invitee.email, phone: d.invitee.phone, updatedAt: new Date(),
      };
      const known = await tx.invitationProjection.findUnique({ where: { id: d.invitationId } });
      if (known && known.tenantId !== tenantId) return;
      // A resend carries a new token; the old link stops working. An accepted invitation stays accepted.
      if (known) await tx.invitationProjection.update({ where: { id: d.invitationId }, data: known.status === 'accepted' ? {} : { ...fields, status: 'pending' } });
      else await tx.invitationProjection.create({ data: { id: d.invitationId, tenantId, ...fields } });
      return;
    }
    case 'invitation.updated':
      await tx.invitationProjection.updateMany({
        where: { id: event.data.invitationId, tenantId, status: 'pending' },
        data: { accountId: event.data.accountId, roleKey: event.data.roleKey, expiresAt: new Date(event.data.expiresAt), updatedAt: new Date() },
      });
      return;
    case 'invitation.withdrawn':
      await tx.invitationProjection.updateMany({ where: { id: event.data.invitationId, tenantId, status: 'pending' }, data: { status: 'withdrawn', updatedAt: new Date() } });
      return;
  }
}
