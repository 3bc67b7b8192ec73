import { emailAddress, phoneNumber } from '@roster/contracts';
import { Router } from 'express';
import { z } from 'zod';
import { parseSealingPublicKey, type SealingPublicKey } from '@roster/platform/crypto/sealing';
import { parse } from '@roster/platform/http/app';
import { HttpProblem, notFound } from '@roster/platform/http/problem';
import { requireToken } from '../access/caller.js';
import type { DirectoryContext } from '../context.js';
import { authenticated, callerOf } from './support.js';
import { editInvitation, invitePeople, resendInvitation, withdrawInvitation } from '../invitations/commands.js';
import { MAX_INVITEES } from '../invitations/invitation.js';
import { findInvitation, invitationDto, listInvitations } from '../invitations/queries.js';

const uuid = z.uuid();
const roleKey = z.string().regex(/^[a-z][a-z0-9_]{1,63}$/, 'a role key such as manager');
const invitee = z.strictObject({
  firstName: z.string().trim().min(1).max(100),
  lastName: z.string().trim().min(1).max(100),
  email: emailAddress.optional(),
  phone: phoneNumber.optional(),
}).refine((i) => i.email !== undefined || i.phone !== undefined, { message: 'give an email or a phone (or both): the invitation is sent to it' });
const inviteBody = z.strictObject({
  accountId: uuid,
  roleKey,
  invitees: z.array(invitee).min(1).max(MAX_INVITEES),
});
const editBody = z.strictObject({ accountId: uuid.optional(), roleKey: roleKey.optional() })
  .refine((b) => b.accountId !== undefined || b.roleKey !== undefined, { message: 'give accountId, roleKey or both' });
const listQuery = z.strictObject({
  status: z.enum(['pending', 'accepted', 'withdrawn', 'expired']).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});

/**
 * P8 invitations. The channel is SMS when only a phone number is given, e-mail otherwise. The
 * acceptance token leaves the directory only sealed to notifications (rule 5) and as its hash.
 */
export function invitationsRouter(ctx: DirectoryContext): Router {
  const router = Router();
  let sealing: SealingPublicKey | undefined;
  const sealingKey = (): SealingPublicKey => {
    if (!ctx.config.sealingPublicKey) {
      throw new HttpProblem(503, 'sealing-key-missing', 'Invitations unavailable', 'SEALING_PUBLIC_KEY is not configured: invitation links cannot be sealed for delivery');
    }
    return (sealing ??= parseSealingPublicKey(ctx.config.sealingPublicKey));
  };
  const auth = authenticated(ctx);
  const me = async (req: Parameters<typeof callerOf>[1]) => {
    const caller = await callerOf(ctx, req);
    requireToken(caller, 'invitations.manage');
    return caller;
  };

  router.post('/invitations', auth, async (req, res) => {
    const caller = await me(req);
    const body = parse(inviteBody, req.body);
    const rows = await invitePeople(ctx.prisma, sealingKey(), caller, body);
    ctx.relay.nudge();
    res.status(201).json({ items: rows.map((r) => invitationDto(r)) });
  });

  router.get('/invitations', auth, async (req, res) => {
    const caller = await me(req);
    const query = parse(listQuery, req.query, 'query');
    res.json(await listInvitations(ctx.prisma, caller, query));
  });

  router.get('/invitations/:id', auth, async (req, res) => {
    const caller = await me(req);
    const id = parse(uuid, req.params.id, 'params');
    const row = await findInvitation(ctx.prisma, caller, id);
    if (!row) throw notFound(`invitation ${id}`);
    res.json(invitationDto(row));
  });

  router.patch('/invitations/:id', auth, async (req, res) => {
    const caller = await me(req);
    const id = parse(uuid, req.params.id, 'params');
    const body = parse(editBody, req.body);
    const row = await editInvitation(ctx.prisma, caller, id, body);
    ctx.relay.nudge();
    res.json(invitationDto(row));
  });

  router.post('/invitations/:id/resend', auth, async (req, res) => {
    const caller = await me(req);
    const id = parse(uuid, req.params.id, 'params');
    const row = await resendInvitation(ctx.prisma, sealingKey(), caller, id);
    ctx.relay.nudge();
    res.json(invitationDto(row));
  });

  router.delete('/invitations/:id', auth, async (req, res) => {
    const caller = await me(req);
    const id = parse(uuid, req.params.id, 'params');
    const row = await withdrawInvitation(ctx.prisma, caller, id);
    ctx.relay.nudge();
    res.json(invitationDto(row));
  });
  return router;
}
