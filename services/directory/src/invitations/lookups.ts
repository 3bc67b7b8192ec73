import type { DirectoryTx } from '../db/client.js';
import { unknownReference } from '../errors.js';
import { findRole, type RoleView } from '../roles/definitions.js';

/** What invitations read of the directory's accounts, roles and people (always within one tenant). */

export async function requireAccount(tx: DirectoryTx, tenantId: string, accountId: string): Promise<void> {
  if (!(await tx.account.findFirst({ where: { id: accountId, tenantId }, select: { id: true } }))) throw unknownReference('account', [accountId]);
}

export async function requireRole(tx: DirectoryTx, tenantId: string, roleKey: string): Promise<RoleView> {
  const role = await findRole(tx, tenantId, roleKey);
  if (!role) throw unknownReference('role', [roleKey]);
  return role;
}

/** How the directory keys a person's e-mail and phone across branches (P8): lower-case e-mail, phone digits. */
export const emailKey = (email: string | null | undefined): string | null => (email ? email.trim().toLowerCase() : null);
export const phoneKey = (phone: string | null | undefined): string | null => (phone ? phone.replace(/[^0-9]/g, '') || null : null);

export interface Contact {
  email?: string | null | undefined;
  phone?: string | null | undefined;
}

export interface KnownInvitee {
  personId: string;
  email: string | null;
  phone: string | null;
  kind: string;
  status: string;
  /** Holds a role in the account invited to. */
  member: boolean;
}

/** People of the tenant an e-mail or phone of `contacts` already identifies (P8: across branches). */
export async function knownPeopleAmong(tx: DirectoryTx, tenantId: string, accountId: string, contacts: readonly Contact[]): Promise<KnownInvitee[]> {
  const emails = contacts.map((c) => emailKey(c.email)).filter((e): e is string => e !== null);
  const phones = contacts.map((c) => phoneKey(c.phone)).filter((p): p is string => p !== null);
  if (emails.length === 0 && phones.length === 0) return [];
  return tx.$queryRaw<KnownInvitee[]>`
    SELECT p.id::text AS "personId", p.email, p.phone, p.kind, p.status,
           EXISTS (SELECT 1 FROM membership m WHERE m.person_id = p.id AND m.account_id = ${accountId}::uuid) AS member
    FROM person p
    WHERE p.id IN (
      -- One lookup per partial index (people not archived, archived ones): an OR read the whole tenant.
      SELECT id FROM person WHERE tenant_id = ${tenantId}::uuid AND email_key = ANY(${emails}::text[]) AND status <> 'archived'
      UNION SELECT id FROM person WHERE tenant_id = ${tenantId}::uuid AND phone_key = ANY(${phones}::text[]) AND status <> 'archived'
      UNION SELECT id FROM person WHERE tenant_id = ${tenantId}::uuid AND email_key = ANY(${emails}::text[]) AND status = 'archived'
      UNION SELECT id FROM person WHERE tenant_id = ${tenantId}::uuid AND phone_key = ANY(${phones}::text[]) AND status = 'archived')`;
}
