import { randomUUID } from 'node:crypto';
import type pg from 'pg';

/** A sitter (active, with access) in a fresh tenant with `n` upcoming visits, default sitter of 5 clients, on 2 schedules, and a past visit. */
export async function seedSitter(pool: pg.Pool, n: number): Promise<{ tenantId: string; sitterId: string }> {
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
    // Upcoming visits spread over the clients, one every 10 minutes from tomorrow on; one past visit that must stay.
    await client.query(
      `INSERT INTO visit (id, tenant_id, client_id, sitter_id, starts_at, ends_at)
       SELECT gen_random_uuid(), $1, ($3::uuid[])[1 + g % 20], $2, now() + interval '1 day' + g * interval '10 minutes', now() + interval '1 day' + g * interval '10 minutes' + interval '30 minutes'
       FROM generate_series(1, $4::int) g`,
      [tenantId, sitterId, clients.map((c) => c.id), n],
    );
    await client.query(`INSERT INTO visit (id, tenant_id, client_id, sitter_id, starts_at, ends_at) VALUES (gen_random_uuid(), $1, $3, $2, now() - interval '2 days', now() - interval '47 hours')`, [tenantId, sitterId, clients[0]!.id]);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
  return { tenantId, sitterId };
}

