import { randomUUID } from 'node:crypto';
import type pg from 'pg';

/**
 * The visit table as it would be with the sitter on the visit row (sitter_id indexed): what a
 * plain `UPDATE … SET sitter_id = NULL` costs, the design visit_assignment replaced.
 */
export async function createNaiveVisitTable(pool: pg.Pool): Promise<void> {
  await pool.query(`CREATE TABLE visit_naive (LIKE visit INCLUDING ALL) WITH (fillfactor = 90)`);
  await pool.query(`ALTER TABLE visit_naive ADD COLUMN sitter_id uuid`);
  await pool.query(`CREATE INDEX ON visit_naive (tenant_id, sitter_id, starts_at)`);
}

/**
 * A sitter (active, with access) in a fresh tenant with `n` upcoming visits, default sitter of 5
 * clients, on 2 schedules, and a past visit; in scheduling's tables or in the naive one.
 */
export async function seedSitter(pool: pg.Pool, n: number, table: 'visit' | 'visit_naive' = 'visit'): Promise<{ tenantId: string; sitterId: string }> {
  const tenantId = randomUUID();
  const sitterId = randomUUID();
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`INSERT INTO person_projection (id, tenant_id, kind, status, version) VALUES ($1, $2, 'staff', 'active', 1)`, [sitterId, tenantId]);
    await client.query(`INSERT INTO membership (person_id, account_id, tenant_id, role_key, active, changed_at) VALUES ($1, gen_random_uuid(), $2, 'staff', true, now())`, [sitterId, tenantId]);
    const { rows: clients } = await client.query<{ id: string }>(
      `INSERT INTO person_projection (id, tenant_id, kind, status, version, default_sitter_id)
       SELECT gen_random_uuid(), $1, 'client', 'active', 1, CASE WHEN g <= 5 THEN $2::uuid END FROM generate_series(1, 20) g RETURNING id`,
      [tenantId, sitterId],
    );
    await client.query(
      `INSERT INTO schedule (id, tenant_id, client_id, sitter_id, rrule, time_zone, start_time, start_date, duration_minutes)
       SELECT gen_random_uuid(), $1, $2, $3, 'FREQ=DAILY', 'Europe/London', '09:00', current_date, 30 FROM generate_series(1, 2)`,
      [tenantId, clients[0]!.id, sitterId],
    );
    await insertVisits(client, { tenantId, sitterId, clientIds: clients.map((c) => c.id), upcoming: n, table });
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
  return { tenantId, sitterId };
}


/**
 * `upcoming` visits of `sitterId`, spread over `clientIds`, one every 10 minutes from tomorrow on,
 * and one past visit that must keep its sitter: visits and their assignments (in the naive table
 * the sitter stays on the visit row). Plain SQL, so 100,000 take seconds instead of an hour of API calls.
 */
export async function insertVisits(
  db: pg.Pool | pg.PoolClient | pg.Client,
  { tenantId, sitterId, clientIds, upcoming, table = 'visit' }: { tenantId: string; sitterId: string; clientIds: string[]; upcoming: number; table?: 'visit' | 'visit_naive' },
): Promise<void> {
  const offsets = `SELECT g, now() + interval '1 day' + g * interval '10 minutes' AS starts_at FROM generate_series(1, $4::int) g
                   UNION ALL SELECT 0, now() - interval '2 days'`;
  const client = `($3::uuid[])[1 + g % cardinality($3::uuid[])]`;
  if (table === 'visit') {
    await db.query(
      `WITH v AS (
         INSERT INTO visit (id, tenant_id, client_id, starts_at, ends_at)
         SELECT gen_random_uuid(), $1, ${client}, starts_at, starts_at + interval '30 minutes' FROM (${offsets}) o RETURNING id, starts_at
       ) INSERT INTO visit_assignment (visit_id, tenant_id, sitter_id, starts_at) SELECT id, $1, $2, starts_at FROM v`,
      [tenantId, sitterId, clientIds, upcoming],
    );
  } else {
    await db.query(
      `INSERT INTO visit_naive (id, tenant_id, client_id, sitter_id, starts_at, ends_at)
       SELECT gen_random_uuid(), $1, ${client}, $2, starts_at, starts_at + interval '30 minutes' FROM (${offsets}) o`,
      [tenantId, sitterId, clientIds, upcoming],
    );
  }
}
