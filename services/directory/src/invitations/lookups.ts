import type { DirectoryTx } from '../db/client.js';
import { unknownReference } from '../http/problems.js';
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

/** People of the tenant identified by an e-mail or phone of `contacts` who already hold a role in `accountId`. */
export async function membersAmong(tx: DirectoryTx, tenantId: string, accountId: string, contacts: readonly Contact[]): Promise<{ personId: string; email: string | null; phone: string | null }[]> {
  const emails = contacts.map((c) => emailKey(c.email)).filter((e): e is string => e !== null);
  const phones = contacts.map((c) => phoneKey(c.phone)).filter((p): p is string => p !== null);
  if (emails.length === 0 && phones.length === 0) return [];
  return tx.$queryRaw<{ personId: string; email: string | null; phone: string | null }[]>`
    SELECT p.id AS "personId", p.email, p.phone FROM person p
    JOIN membership m ON m.person_id = p.id AND m.account_id = ${accountId}::uuid
    WHERE p.tenant_id = ${tenantId}::uuid AND p.status <> 'archived'
      AND (p.email_key = ANY(${emails}::text[]) OR p.phone_key = ANY(${phones}::text[]))`;
}
