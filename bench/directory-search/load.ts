import type pg from 'pg';

/** Syllables of the generated last names: 100 × 100 = 10,000 distinct names, 100 people each per million. */
export const LAST_NAME_PARTS = {
  prefixes: ['ash', 'bar', 'bell', 'black', 'brad', 'brook', 'brown', 'bur', 'cal', 'car', 'chad', 'clay', 'cole', 'corn', 'crane', 'dal', 'dan', 'dar', 'dean', 'del',
    'dun', 'east', 'ed', 'el', 'fair', 'far', 'fen', 'field', 'fin', 'fox', 'gar', 'gil', 'glen', 'gold', 'gray', 'green', 'hal', 'ham', 'har', 'hart',
    'hay', 'hol', 'hun', 'jack', 'kent', 'kin', 'lang', 'lee', 'lin', 'lock', 'mar', 'mead', 'mil', 'mor', 'nash', 'new', 'nor', 'oak', 'old', 'pal',
    'park', 'pem', 'pen', 'ray', 'red', 'rich', 'rid', 'ros', 'rut', 'sal', 'sand', 'shel', 'sher', 'stan', 'stock', 'stone', 'sud', 'sum', 'swin', 'tal',
    'thorn', 'tom', 'town', 'ud', 'under', 'up', 'vale', 'wake', 'wal', 'ward', 'wat', 'web', 'wel', 'west', 'whit', 'wil', 'win', 'wood', 'wor', 'york'],
  suffixes: ['by', 'croft', 'dale', 'den', 'don', 'field', 'ford', 'gate', 'ham', 'hill', 'hurst', 'ing', 'kirk', 'land', 'ley', 'low', 'man', 'mere', 'mont', 'more',
    'ner', 'ney', 'port', 'ridge', 'row', 'sby', 'send', 'shaw', 'son', 'stead', 'ster', 'stone', 'ter', 'thorpe', 'ton', 'tree', 'vey', 'ville', 'wall', 'way',
    'well', 'wick', 'win', 'with', 'wood', 'worth', 'wright', 'yard', 'bourne', 'brook', 'bury', 'by', 'cliff', 'cott', 'cross', 'dell', 'end', 'fell', 'fold', 'gard',
    'grove', 'hall', 'haven', 'holm', 'hope', 'house', 'kin', 'lake', 'lane', 'lock', 'marsh', 'mill', 'moor', 'mouth', 'ness', 'nock', 'pool', 'rick', 'rock', 'rose',
    'sell', 'side', 'stall', 'stoke', 'ston', 'strand', 'tham', 'thwaite', 'toft', 'tow', 'vale', 'wade', 'ward', 'water', 'weald', 'well', 'west', 'white', 'wold', 'yate'],
};
const FIRST_NAMES = ['Ada', 'Alan', 'Alice', 'Amir', 'Anna', 'Ben', 'Bea', 'Carl', 'Cleo', 'Dan', 'Dora', 'Eli', 'Emma', 'Eve', 'Finn', 'Gia', 'Hugo', 'Ida', 'Ivan', 'Jade',
  'Jon', 'Kai', 'Kim', 'Lea', 'Leo', 'Lin', 'Liv', 'Max', 'Mia', 'Mo', 'Nia', 'Noah', 'Ola', 'Omar', 'Pia', 'Raj', 'Rosa', 'Sam', 'Sara', 'Tom',
  'Uma', 'Vera', 'Wes', 'Xia', 'Yara', 'Yusuf', 'Zoe', 'Zack', 'Nina', 'Paul'];

/**
 * Bulk-loads `count` people (and one membership each) into the tenant with generate_series, the
 * way a data migration would: indexes dropped during the load and rebuilt once after it.
 * 90% active, 7% inactive, 3% archived; a third are clients; e-mail `p<i>@bench.example`, phone `+1 555 <i>`.
 */
export async function loadPeople(pool: pg.Pool, tenantId: string, accountId: string, count: number, progress: (m: string) => void): Promise<void> {
  const client = await pool.connect();
  try {
    const indexes = (await client.query<{ name: string; def: string }>(
      `SELECT indexname AS name, indexdef AS def FROM pg_indexes WHERE tablename IN ('person', 'membership') AND indexname NOT LIKE '%pkey'`,
    )).rows;
    for (const i of indexes) await client.query(`DROP INDEX ${i.name}`);
    await client.query("SET maintenance_work_mem = '512MB'");
    const chunk = 250_000;
    for (let from = 1; from <= count; from += chunk) {
      const to = Math.min(count, from + chunk - 1);
      await client.query(
        `INSERT INTO person (id, tenant_id, kind, first_name, last_name, email, phone, account_id, role_key, status, version, updated_at)
         SELECT gen_random_uuid(), $1::uuid, CASE WHEN i % 3 = 0 THEN 'client' ELSE 'staff' END,
                ($4::text[])[1 + i % 50],
                initcap(($5::text[])[1 + (i / 50) % 100] || ($6::text[])[1 + (i / 5000) % 100]),
                'p' || i || '@bench.example', '+1 555 ' || lpad(i::text, 7, '0'), $2::uuid,
                CASE WHEN i % 3 = 0 THEN 'client' ELSE 'staff' END,
                CASE WHEN i % 100 < 90 THEN 'active' WHEN i % 100 < 97 THEN 'inactive' ELSE 'archived' END, 1, now()
         FROM generate_series($3::int, $7::int) AS i`,
        [tenantId, accountId, from, FIRST_NAMES, LAST_NAME_PARTS.prefixes, LAST_NAME_PARTS.suffixes, to],
      );
      progress(`people ${to.toLocaleString('en-US')} / ${count.toLocaleString('en-US')}`);
    }
    await client.query(
      `INSERT INTO membership (tenant_id, person_id, account_id, role_key)
       SELECT tenant_id, id, account_id, role_key FROM person WHERE tenant_id = $1::uuid ON CONFLICT DO NOTHING`, [tenantId],
    );
    progress('memberships loaded; rebuilding indexes');
    for (const i of indexes) {
      const started = Date.now();
      await client.query(i.def);
      progress(`${i.name} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
    await client.query('ANALYZE person');
    await client.query('ANALYZE membership');
  } finally {
    client.release();
  }
}
