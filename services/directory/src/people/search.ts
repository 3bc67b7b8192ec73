import { createHash } from 'node:crypto';
import type { SqlTx } from '@roster/platform/db/database';
import { personCondition, type Caller } from '../access/caller.js';
import { openCursor, sealCursor } from '@roster/platform/paging';
import { PERSON_VIEW_COLUMNS, personView, type PersonView, type PersonViewRow } from './view.js';

export interface PeopleQuery {
  q?: string | undefined;
  kind?: 'client' | 'staff' | undefined;
  roleKey?: string | undefined;
  accountId?: string | undefined;
  status?: 'active' | 'inactive' | 'archived' | undefined;
  limit: number;
  cursor?: string | undefined;
}

/**
 * Which statuses a list shows (P6, P7): a search (`q`) finds active people, `q=-smith` inactive
 * ones; pickers (`roleKey`) list active people; a plain list shows active and inactive people;
 * archived people appear only with `status=archived`. An explicit `status` wins.
 */
export function statusesFor(query: Pick<PeopleQuery, 'q' | 'roleKey' | 'status'>): string[] {
  if (query.status) return [query.status];
  if (query.q?.startsWith('-')) return ['inactive'];
  if (query.q || query.roleKey) return ['active'];
  return ['active', 'inactive'];
}

/** The fragment searched for: lower case; a phone-like fragment by its digits (as phones are indexed). */
export function fragmentOf(q: string | undefined): string | null {
  const raw = (q?.startsWith('-') ? q.slice(1) : q ?? '').trim().toLowerCase();
  if (!raw) return null;
  if (/^[+0-9 ().-]+$/.test(raw) && /[0-9]/.test(raw)) return raw.replace(/[^0-9]/g, '');
  return raw;
}

/** Rows read in name order before a search falls back to the trigram index (see searchPeople). */
const WINDOW = 5000;

const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * P7: people of the caller's reach, filtered, in name order, a page at a time (keyset on
 * `sort_key, id`). Fragments of 3+ characters match anywhere in the name, e-mail or phone digits
 * through the trigram index; shorter ones match the start of the last name.
 */
export async function searchPeople(tx: SqlTx, caller: Caller, query: PeopleQuery): Promise<{ items: PersonView[]; nextCursor: string | null }> {
  const fingerprint = createHash('sha256').update(JSON.stringify([caller.tenantId, query.q, query.kind, query.roleKey, query.accountId, query.status])).digest('base64url').slice(0, 16);
  const after = openCursor(query.cursor, { tenantId: caller.tenantId, query: fingerprint }, ['string', 'string']);
  const statuses = statusesFor(query);
  const params: unknown[] = [caller.tenantId, statuses.length === 1 ? statuses[0] : statuses];
  // One status: an equality, so the (tenant, status, sort_key) index gives the order (no sort).
  const where = ['p.tenant_id = $1::uuid', statuses.length === 1 ? 'p.status = $2' : 'p.status = ANY($2::text[])'];
  const add = (value: unknown) => (params.push(value), `$${params.length}`);
  const fragment = fragmentOf(query.q);
  let anywhere: string | null = null;
  if (fragment && fragment.length >= 3) anywhere = `p.search_text LIKE ${add(`%${likeEscape(fragment)}%`)}`;
  else if (fragment) {
    // A prefix as a range too: the index serves a range whatever the collation; LIKE alone it may not.
    const upper = fragment.slice(0, -1) + String.fromCodePoint(fragment.codePointAt(fragment.length - 1)! + 1);
    where.push(`p.sort_key >= ${add(fragment)} AND p.sort_key < ${add(upper)} AND p.sort_key LIKE ${add(`${likeEscape(fragment)}%`)}`);
  }
  if (query.kind) where.push(`p.kind = ${add(query.kind)}`);
  if (query.roleKey || query.accountId) {
    const conditions = ['m.person_id = p.id'];
    if (query.roleKey) conditions.push(`m.role_key = ${add(query.roleKey)}`);
    if (query.accountId) conditions.push(`EXISTS (SELECT 1 FROM account a WHERE a.id = m.account_id AND ${add(query.accountId)}::uuid = ANY(a.ancestors))`);
    where.push(`EXISTS (SELECT 1 FROM membership m WHERE ${conditions.join(' AND ')})`);
  }
  where.push(personCondition(caller, 'people.read', params));
  if (after) where.push(`(p.sort_key, p.id) > (${add(after[0])}, ${add(after[1])}::uuid)`);
  const inOrder = `ORDER BY p.sort_key, p.id LIMIT ${query.limit + 1}`;
  let rows: PersonViewRow[];
  if (!anywhere) {
    rows = await tx.$queryRawUnsafe<PersonViewRow[]>(`SELECT ${PERSON_VIEW_COLUMNS} FROM person p WHERE ${where.join(' AND ')} ${inOrder}`, ...params);
  } else {
    // A fragment anywhere: a frequent one ("son") fills a page from the first rows in name order;
    // a rare one ("inwoo") is found through the trigram index and its few matches sorted. The
    // planner cannot tell them apart (trigram estimates are poor), so: the first WINDOW rows in
    // name order first; when they do not fill the page, the trigram index over the whole list.
    rows = await tx.$queryRawUnsafe<PersonViewRow[]>(
      `SELECT ${PERSON_VIEW_COLUMNS} FROM (SELECT * FROM person p WHERE ${where.join(' AND ')} ORDER BY p.sort_key, p.id LIMIT ${WINDOW}) p
       WHERE ${anywhere} ${inOrder}`,
      ...params,
    );
    if (rows.length <= query.limit) {
      rows = await tx.$queryRawUnsafe<PersonViewRow[]>(
        // The matches' sort keys come with them, so only the page's rows are read again for the view.
        `WITH found AS MATERIALIZED (SELECT p.id, p.sort_key FROM person p WHERE ${where.join(' AND ')} AND ${anywhere}),
              page AS (SELECT id FROM found ORDER BY sort_key, id LIMIT ${query.limit + 1})
         SELECT ${PERSON_VIEW_COLUMNS} FROM person p JOIN page ON page.id = p.id ${inOrder}`,
        ...params,
      );
    }
  }
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    items: page.map(personView),
    nextCursor: rows.length > query.limit && last ? sealCursor([last.sort_key, last.id], { tenantId: caller.tenantId, query: fingerprint }) : null,
  };
}
