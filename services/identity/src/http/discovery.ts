import { Router } from 'express';
import { TOKEN_ALGORITHM } from '@roster/platform/auth/keys';
import type { IdentityContext } from '../service.js';
import { signerOf } from '../sessions/tokens.js';

/** JWKS (every key: the current one signs, previous ones still verify) and OpenID discovery (rule 7). */
export function discoveryRouter(ctx: IdentityContext): Router {
  const router = Router();
  router.get('/.well-known/jwks.json', (_req, res) => {
    res.setHeader('cache-control', 'public, max-age=300');
    res.json(signerOf(ctx).jwks());
  });
  router.get('/.well-known/openid-configuration', (req, res) => {
    const base = `${req.protocol}://${req.get('host')}`;
    res.setHeader('cache-control', 'public, max-age=300');
    res.json({
      issuer: ctx.auth.issuer,
      jwks_uri: `${base}/.well-known/jwks.json`,
      token_endpoint: `${base}/sessions`,
      userinfo_endpoint: `${base}/me`,
      revocation_endpoint: `${base}/sessions/current`,
      response_types_supported: ['token'],
      grant_types_supported: ['password', 'refresh_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: [TOKEN_ALGORITHM],
      token_endpoint_auth_methods_supported: ['none'],
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'iat_ms', 'jti', 'tid', 'kind', 'roles', 'perms', 'sid', 'pwd', 'act'],
    });
  });
  return router;
}
