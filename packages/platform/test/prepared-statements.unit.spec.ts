import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { preparedStatementNames } from '../src/db/database.js';

describe('prepared statement names (each connection parses and plans a statement once)', () => {
  it('names a statement by its text: the same text, the same name; another text, another name', () => {
    const nameOf = preparedStatementNames();
    const login = nameOf({ sql: 'SELECT * FROM login WHERE username = $1' });
    assert.match(login ?? '', /^roster_[0-9a-f]{40}$/);
    assert.equal(nameOf({ sql: 'SELECT * FROM login WHERE username = $1' }), login);
    assert.notEqual(nameOf({ sql: 'SELECT * FROM session WHERE id = $1' }), login);
    assert.ok(login!.length <= 63, 'within Postgres identifier length');
  });

  it('leaves statements unnamed past the limit of distinct texts and for long texts, so no connection hoards them', () => {
    const nameOf = preparedStatementNames(2, 100);
    assert.ok(nameOf({ sql: 'SELECT 1' }));
    assert.ok(nameOf({ sql: 'SELECT 2' }));
    assert.equal(nameOf({ sql: 'SELECT 3' }), undefined, 'a third distinct text');
    assert.ok(nameOf({ sql: 'SELECT 1' }), 'texts named before keep their names');
    assert.equal(preparedStatementNames(10, 100)({ sql: `SELECT ${'x, '.repeat(50)}1` }), undefined, 'a text longer than the limit');
  });
});
