import { Router } from 'express';
import type { IdentityContext } from '../context.js';
import { signerOf } from '../sessions/tokens.js';

/**
 * The JWKS of access tokens (rule 7; every key: the current one signs, previous ones still verify)
 * that every service verifies with. OpenID discovery is the OpenID Provider's (oidc/provider.ts).
 */
export function discoveryRouter(ctx: IdentityContext): Router {
  const router = Router();
  router.get('/.well-known/jwks.json', (_req, res) => {
    res.setHeader('cache-control', 'public, max-age=300');
    res.json(signerOf(ctx).jwks());
  });
  return router;
}
