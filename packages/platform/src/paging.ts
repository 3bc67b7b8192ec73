import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { isUuid } from '@roster/contracts';
import { DomainError } from './errors.js';

/**
 * Keyset cursors of every list (issue 15): opaque, signed (HMAC-SHA256) and bound to the tenant and
 * the list's query, so that a tampered cursor, or one from another tenant or another query, is a
 * 400 that says so — never a wrong page, never a 500 from a position the database cannot read.
 *
 * The key: `CURSOR_SECRET` when set; otherwise derived from the service's database URL, which its
 * replicas share (a cursor from one replica works on the next) and which already holds a secret in
 * production. One key per process: the embedded stack's four services share theirs (the binding
 * names the list, so one list's cursor is refused by another).
 */
let key: Buffer = createHash('sha256').update(`roster-cursor:${process.pid}:${Math.random()}`).digest();
let configured = false;

export function configureCursorKey(secret: string): void {
  if (configured) return;
  key = createHash('sha256').update(`roster-cursor:${secret}`).digest();
  configured = true;
}

export interface CursorBinding {
  tenantId: string;
  /** The list and its filters: e.g. `people:status=active:q=smith`. */
  query: string;
}

export type CursorShape = readonly ('string' | 'number')[];

const mac = (binding: CursorBinding, body: string) =>
  createHmac('sha256', key).update(`${binding.tenantId}\n${binding.query}\n${body}`).digest().subarray(0, 16);

export function sealCursor(position: readonly unknown[], binding: CursorBinding): string {
  const body = Buffer.from(JSON.stringify(position)).toString('base64url');
  return `${body}.${mac(binding, body).toString('base64url')}`;
}

export const invalidCursor = () => new DomainError('invalid', 'invalid-cursor', 'Invalid cursor',
  'cursor: not a cursor this list gave for this query; start again without it', { errors: [{ path: 'query.cursor', message: 'not a cursor this list returned' }] });

/** The position a cursor holds, checked against its signature, binding and shape; null without a cursor. */
export function openCursor(cursor: string | undefined, binding: CursorBinding, shape: CursorShape): unknown[] | null {
  if (cursor === undefined) return null;
  const [body, signature, extra] = cursor.split('.');
  if (!body || !signature || extra !== undefined) throw invalidCursor();
  const given = Buffer.from(signature, 'base64url');
  const expected = mac(binding, body);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalidCursor();
  let position: unknown;
  try {
    position = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (!Array.isArray(position) || position.length !== shape.length || !position.every((v, i) => typeof v === shape[i])) throw invalidCursor();
  return position;
}

/** The position of a list in time order, the commonest: the last row's instant and id. */
export const sealTimeCursor = (at: Date, id: string, binding: CursorBinding): string => sealCursor([at.toISOString(), id], binding);

/** A time-ordered list's position, or null without a cursor; a signed position that is not an instant and an id is a 400 too. */
export function openTimeCursor(cursor: string | undefined, binding: CursorBinding): { at: Date; id: string } | null {
  const position = openCursor(cursor, binding, ['string', 'string']) as [string, string] | null;
  if (!position) return null;
  const at = new Date(position[0]);
  if (Number.isNaN(at.getTime()) || !isUuid(position[1])) throw invalidCursor();
  return { at, id: position[1] };
}
