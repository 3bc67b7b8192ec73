import type { SqlTx } from '@roster/platform/db/database';

/**
 * The login path in as few round trips as possible (it runs next to a 30 ms hash on a loaded
 * machine, and every round trip competes with the hash for CPU): one query reads the throttle
 * state, the login, the person's status and memberships; one statement opens the session.
 */
export interface LoginRow {
  person_id: string;
  tenant_id: string;
  password_hash: string | null;
  password_temporary: boolean;
  temporary_expires_at: string | null;
  password_change_required: boolean;
  enabled: boolean;
  kind: string | null;
  status: string | null;
  memberships: { accountId: string; roleKey: string }[];
}

export interface LoginLookup {
  blockedUntil: Date | null;
  usernameFailures: number;
  login: LoginRow | null;
}

/** `throttleKeys[0]` is the username-from-this-address key, whose failures a success forgets. */
export async function lookupLogin(db: SqlTx, username: string, throttleKeys: readonly string[]): Promise<LoginLookup> {
  const [row] = await db.$queryRawUnsafe<{ blocked_until: Date | null; username_failures: number; login: LoginRow | null }[]>(
    `SELECT
       (SELECT max(blocked_until) FROM login_throttle WHERE key = ANY($2::text[]) AND blocked_until > now()) AS blocked_until,
       (SELECT COALESCE(max(failures), 0)::int FROM login_throttle WHERE key = $3) AS username_failures,
       (SELECT row_to_json(x) FROM (
          SELECT l.person_id, l.tenant_id, l.password_hash, l.password_temporary, l.temporary_expires_at,
                 l.password_change_required, l.enabled, p.kind, p.status,
                 COALESCE((SELECT json_agg(json_build_object('accountId', m.account_id, 'roleKey', m.role_key) ORDER BY m.account_id)
                           FROM membership_projection m WHERE m.person_id = l.person_id AND m.tenant_id = l.tenant_id), '[]'::json) AS memberships
            FROM login l LEFT JOIN person_projection p ON p.id = l.person_id AND p.tenant_id = l.tenant_id
           WHERE l.username = $1) x) AS login`,
    username, throttleKeys, throttleKeys[0],
  );
  return { blockedUntil: row?.blocked_until ? new Date(row.blocked_until) : null, usernameFailures: row?.username_failures ?? 0, login: row?.login ?? null };
}

export interface NewSession {
  sessionId: string;
  tenantId: string;
  personId: string;
  passwordChangeRequired: boolean;
  createdAt: Date;
  expiresAt: Date;
  refreshTokenHash: string;
  /** Consume this temporary password hash in the same statement (L3); the session exists only if it was still there. */
  consumeTemporaryHash?: string | null;
}

/** One statement: (consume the temporary password,) insert the session and its first refresh token. Returns false if the temporary password was already used. */
export async function insertSession(db: SqlTx, s: NewSession): Promise<boolean> {
  const consume = s.consumeTemporaryHash != null;
  const inserted = await db.$executeRawUnsafe(
    `WITH consumed AS (
       ${consume
         ? `UPDATE login SET password_hash = NULL, password_temporary = false, temporary_expires_at = NULL, password_change_required = true, updated_at = $5
              WHERE person_id = $3::uuid AND password_hash = $8 AND password_temporary RETURNING person_id`
         : 'SELECT $3::uuid AS person_id WHERE $8::text IS NULL'}
     ), opened AS (
       INSERT INTO session (id, tenant_id, person_id, password_change_required, created_at, expires_at)
       SELECT $1::uuid, $2::uuid, person_id, $4, $5, $6 FROM consumed RETURNING id
     )
     INSERT INTO refresh_token (token_hash, session_id, created_at) SELECT $7, id, $5 FROM opened`,
    s.sessionId, s.tenantId, s.personId, s.passwordChangeRequired, s.createdAt, s.expiresAt, s.refreshTokenHash,
    consume ? s.consumeTemporaryHash : null,
  );
  return inserted === 1;
}
