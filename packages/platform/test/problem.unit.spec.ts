import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { conflict, HttpProblem } from '../src/http/problem.js';

// RFC 9457 (issue 16): `status` is the HTTP status code, whatever extensions a problem carries.
describe('problem documents', () => {
  it('keep RFC 9457 members for the RFC: a state travels as an extension', () => {
    const doc = HttpProblem.of(conflict('the visit is already completed', { state: 'completed' })).toJSON('/visits/1/complete');
    assert.deepEqual(doc, {
      type: 'https://roster.dev/problems/conflict', title: 'Conflict', status: 409,
      detail: 'the visit is already completed', instance: '/visits/1/complete', state: 'completed',
    });
  });

  it('refuse extensions named like an RFC 9457 member when the problem is made', () => {
    for (const name of ['status', 'type', 'title', 'detail', 'instance']) {
      assert.throws(() => new HttpProblem(409, 'conflict', 'Conflict', 'x', { [name]: 'active' }), /may not be named/, name);
      // A domain error carries its extensions into the problem: refused where it is raised too.
      assert.throws(() => conflict('x', { [name]: 'active' }), /may not be named/, name);
    }
  });
});
