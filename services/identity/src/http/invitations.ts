import { phoneNumber } from '@roster/contracts';
import { Router } from 'express';
import { z } from 'zod';
import { parse } from '@roster/platform/http/app';
import type { IdentityContext } from '../context.js';
import { acceptAsExistingPerson, acceptAsNewPerson } from '../invitations/accept.js';
import { clientAddress } from './callers.js';
import { password, username } from './schemas.js';

const token = z.string().min(16).max(256).regex(/^[A-Za-z0-9_-]+$/);
const registration = z.strictObject({
  firstName: z.string().trim().min(1).max(100),
  lastName: z.string().trim().min(1).max(100),
  phone: phoneNumber,
  password,
  acceptTerms: z.literal(true, 'the terms must be accepted'),
  marketingConsent: z.boolean(),
});
const existing = z.strictObject({ username, password });

/** P8: accepting an invitation needs no bearer token: the link's token is the credential. */
export function invitationsRouter(ctx: IdentityContext): Router {
  const router = Router();
  router.post('/invitations/:token/accept', async (req, res) => {
    const t = parse(token, req.params.token, 'params');
    const isExisting = req.body && typeof req.body === 'object' && 'username' in req.body;
    const result = isExisting
      ? await acceptAsExistingPerson(ctx, t, { ...parse(existing, req.body), address: clientAddress(req) })
      : await acceptAsNewPerson(ctx, t, parse(registration, req.body));
    res.status(isExisting ? 200 : 201).json(result);
  });
  return router;
}
