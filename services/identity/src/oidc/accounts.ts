import type { Account, KoaContextWithOIDC } from 'oidc-provider';
import type { IdentityContext } from '../context.js';
import { personAccess, tokenRoles } from '../people/access.js';
import { TENANT_METADATA } from './clients.js';

/** The tenant a client belongs to (only that tenant's people sign in to it). */
export const tenantOfClient = (client: { metadata(): Record<string, unknown> } | undefined): string | null =>
  (client?.metadata()[TENANT_METADATA] as string | undefined) ?? null;

/**
 * oidc-provider's account lookup (`sub` = the person's id), on every use of a grant (code
 * exchange, refresh, userinfo): a person who is no longer active, whose login is off, or who
 * belongs to another tenant than the client is no account, so their grant stops working at once.
 */
export async function findAccount(ctx: IdentityContext, oidc: KoaContextWithOIDC, sub: string): Promise<Account | undefined> {
  const tenantId = tenantOfClient(oidc.oidc.client as never);
  if (!tenantId) return undefined;
  const login = await ctx.prisma.login.findFirst({ where: { personId: sub, tenantId }, select: { enabled: true, username: true } });
  if (!login?.enabled) return undefined;
  const person = await personAccess(ctx.prisma, tenantId, sub);
  if (!person || person.status !== 'active') return undefined;
  return {
    accountId: sub,
    claims: () => ({
      sub,
      name: [person.firstName, person.lastName].filter(Boolean).join(' ') || login.username,
      given_name: person.firstName ?? undefined,
      family_name: person.lastName ?? undefined,
      email: person.email ?? undefined,
      phone_number: person.phone ?? undefined,
      tid: tenantId,
      roles: tokenRoles(person).roles,
    }),
  };
}
