import type { SqlTx } from '../db/database.js';

/**
 * Per-subject "not before" (B2): a token of a person issued before this instant is refused.
 * Held in memory for the verifier (a map lookup per request) and in the service's own
 * `token_not_before` table so that a restarted replica still refuses revoked tokens.
 */
export class NotBeforeList {
  private readonly bySubject = new Map<string, number>();

  /** Raises the subject's not-before; never lowers it. Returns true when it changed. */
  raise(personId: string, atMs: number): boolean {
    const known = this.bySubject.get(personId);
    if (known !== undefined && known >= atMs) return false;
    this.bySubject.set(personId, atMs);
    return true;
  }

  notBefore(personId: string): number | undefined {
    return this.bySubject.get(personId);
  }

  get size(): number {
    return this.bySubject.size;
  }

  /** Loads every persisted not-before (start-up). */
  async load(db: SqlTx): Promise<number> {
    const rows = await db.$queryRawUnsafe<{ person_id: string; not_before: Date }[]>('SELECT person_id, not_before FROM token_not_before');
    for (const r of rows) this.raise(r.person_id, new Date(r.not_before).getTime());
    return rows.length;
  }
}

/**
 * The not-before key of one session's tokens (their `sid`), beside the person ids in the same
 * list and table: a logout or an ended impersonation retires that session's tokens only.
 */
export const sessionSubject = (sessionId: string): string => `session:${sessionId}`;

/** Persists many not-befores in one statement (the revocation feed's group commit); the latest per subject. */
export async function persistNotBefores(db: SqlTx, revocations: readonly { subject: string; atMs: number; reason: string }[]): Promise<void> {
  const latest = new Map<string, { subject: string; atMs: number; reason: string }>();
  for (const r of revocations) if ((latest.get(r.subject)?.atMs ?? -Infinity) < r.atMs) latest.set(r.subject, r);
  const rows = [...latest.values()];
  if (rows.length === 0) return;
  await db.$executeRawUnsafe(
    `INSERT INTO token_not_before (person_id, not_before, reason)
     SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[])
     ON CONFLICT (person_id) DO UPDATE SET not_before = EXCLUDED.not_before, reason = EXCLUDED.reason
     WHERE token_not_before.not_before < EXCLUDED.not_before`,
    rows.map((r) => r.subject), rows.map((r) => new Date(r.atMs).toISOString()), rows.map((r) => r.reason),
  );
}
