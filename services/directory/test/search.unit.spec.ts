import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { fragmentOf, statusesFor } from '../src/people/search.js';

// P6, P7: which people a list shows, and what a search fragment is matched as.
describe('people search rules (P7)', () => {
  it('a search finds active people; a leading minus inactive ones; pickers active ones; a plain list active and inactive', () => {
    assert.deepEqual(statusesFor({ q: 'smith' }), ['active']);
    assert.deepEqual(statusesFor({ q: '-smith' }), ['inactive']);
    assert.deepEqual(statusesFor({ roleKey: 'staff' }), ['active']);
    assert.deepEqual(statusesFor({}), ['active', 'inactive']);
  });

  it('archived people only when asked for, and an explicit status wins', () => {
    assert.deepEqual(statusesFor({ q: 'smith', status: 'archived' }), ['archived']);
    assert.deepEqual(statusesFor({ q: '-smith', status: 'active' }), ['active']);
  });

  it('fragments are lower case without the minus; a phone-like one is its digits', () => {
    assert.equal(fragmentOf('-SMITH'), 'smith');
    assert.equal(fragmentOf('+44 (20) 7946-0958'), '442079460958');
    assert.equal(fragmentOf('anna.smith@paws'), 'anna.smith@paws');
    assert.equal(fragmentOf('-'), null);
    assert.equal(fragmentOf(undefined), null);
  });
});
