import type Provider from 'oidc-provider';
import type { IdentityContext } from '../context.js';

const providers = new WeakMap<IdentityContext, Provider>();

export function rememberOpenIdProvider(ctx: IdentityContext, provider: Provider | null): void {
  if (provider) providers.set(ctx, provider);
}

export interface ApplicationsSignedOut {
  /** Grants revoked: their refresh and access tokens stop working at once (introspection: inactive). */
  grantsRevoked: number;
  /** Back-channel logout tokens delivered to applications (OIDC Back-Channel Logout 1.0). */
  logoutTokensSent: number;
  logoutTokensFailed: number;
}

/**
 * Revocation reaches the applications (issue 17 item 3): every OpenID session of the person ends,
 * every grant of theirs is revoked (refresh tokens, access tokens and codes deleted, so
 * introspection answers `active: false`), and each application with a `backchannel_logout_uri`
 * where they were signed in gets a logout token (with the session's `sid`). Runs after the
 * deactivation, archive, login switch-off or access removal committed; a failed delivery is
 * logged and counted, never retried against the person's will to be signed out.
 */
export async function signOutOfApplications(ctx: IdentityContext, personId: string): Promise<ApplicationsSignedOut> {
  const result: ApplicationsSignedOut = { grantsRevoked: 0, logoutTokensSent: 0, logoutTokensFailed: 0 };
  const provider = providers.get(ctx);
  if (!provider) return result;
  const rows = await ctx.prisma.$queryRawUnsafe<{ id: string; payload: { authorizations?: Record<string, { sid?: string; grantId?: string }> } }[]>(
    `DELETE FROM oidc_model WHERE kind = 'Session' AND account_id = $1 RETURNING id, payload`, personId,
  );
  const grants = await ctx.prisma.$queryRawUnsafe<{ id: string }[]>(
    `SELECT id FROM oidc_model WHERE kind = 'Grant' AND account_id = $1`, personId,
  );
  const grantIds = new Set(grants.map((g) => g.id));
  const logouts: Promise<void>[] = [];
  for (const session of rows) {
    for (const [clientId, authorization] of Object.entries(session.payload.authorizations ?? {})) {
      if (authorization.grantId) grantIds.add(authorization.grantId);
      logouts.push((async () => {
        const client = await provider.Client.find(clientId) as unknown as { backchannelLogoutUri?: string; backchannelLogout(sub: string, sid: string): Promise<void> } | undefined;
        if (!client?.backchannelLogoutUri) return;
        try {
          await client.backchannelLogout(personId, authorization.sid ?? '');
          result.logoutTokensSent++;
        } catch (error) {
          result.logoutTokensFailed++;
          ctx.logger.warn({ clientId, err: (error as Error).message }, 'back-channel logout not delivered');
        }
      })());
    }
  }
  if (grantIds.size > 0) {
    result.grantsRevoked = grantIds.size;
    await ctx.prisma.$executeRawUnsafe(
      `DELETE FROM oidc_model WHERE grant_id = ANY($1::text[]) OR (kind = 'Grant' AND id = ANY($1::text[]))`, [...grantIds],
    );
  }
  await Promise.all(logouts);
  return result;
}
