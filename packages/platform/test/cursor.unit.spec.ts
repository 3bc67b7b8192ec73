import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { DomainError } from '../src/errors.js';
import { openCursor, openTimeCursor, sealCursor, sealTimeCursor } from '../src/paging.js';

const refused = (e: unknown) => e instanceof DomainError && e.kind === 'invalid' && e.slug === 'invalid-cursor';

// Issue 15: list cursors are opaque, signed and bound to the tenant and the query.
describe('signed list cursors', () => {
  const binding = { tenantId: 'tenant-a', query: 'people:q=smith' };
  const cursor = sealCursor(['smith anna', '0b9c1e2a-0000-4000-8000-000000000001'], binding);

  it('gives back the position for the same tenant and query', () => {
    assert.deepEqual(openCursor(cursor, binding, ['string', 'string']), ['smith anna', '0b9c1e2a-0000-4000-8000-000000000001']);
    assert.equal(openCursor(undefined, binding, ['string']), null);
  });

  it("refuses another tenant's, another query's, a tampered or a reshaped cursor with a 400", () => {
    assert.throws(() => openCursor(cursor, { ...binding, tenantId: 'tenant-b' }, ['string', 'string']), refused);
    assert.throws(() => openCursor(cursor, { ...binding, query: 'people:q=jones' }, ['string', 'string']), refused);
    const [body, signature] = cursor.split('.');
    const forged = Buffer.from(JSON.stringify(['a', "'; DROP TABLE person; --"])).toString('base64url');
    assert.throws(() => openCursor(`${forged}.${signature}`, binding, ['string', 'string']), refused, 'a position the server did not sign');
    assert.throws(() => openCursor(`${body}.${signature!.slice(0, -2)}AA`, binding, ['string', 'string']), refused);
    assert.throws(() => openCursor(body!, binding, ['string', 'string']), refused, 'no signature');
    assert.throws(() => openCursor(`${cursor}.x`, binding, ['string', 'string']), refused);
    assert.throws(() => openCursor(cursor, binding, ['string']), refused, 'a cursor of another shape');
    for (const junk of ['', '%00', '-'.repeat(36), 'x'.repeat(5000)]) assert.throws(() => openCursor(junk, binding, ['string']), refused, junk.slice(0, 10));
  });

  it('time-ordered lists: an instant and an id come back as such; a signed position of another kind is a 400', () => {
    const at = new Date('2026-12-03T10:00:00.000Z');
    const id = '0b9c1e2a-0000-4000-8000-000000000002';
    assert.deepEqual(openTimeCursor(sealTimeCursor(at, id, binding), binding), { at, id });
    assert.equal(openTimeCursor(undefined, binding), null);
    assert.throws(() => openTimeCursor(sealCursor(['not a date', id], binding), binding), refused, 'not an instant');
    assert.throws(() => openTimeCursor(sealCursor([at.toISOString(), '-'.repeat(36)], binding), binding), refused, 'not an id');
  });
});
