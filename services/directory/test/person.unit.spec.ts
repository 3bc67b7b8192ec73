import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HttpProblem } from '@roster/platform/http/problem';
import { decideLifecycle } from '../src/people/person.js';

// P5 as given/when/then: given a person's state, when a lifecycle command arrives, then this event and version.
describe('person lifecycle (P5)', () => {
  it('given an active person, when deactivated, then user.deactivated at the next version', () => {
    assert.deepEqual(decideLifecycle({ status: 'active', version: 4 }, { type: 'deactivate' }), {
      eventType: 'user.deactivated',
      next: { status: 'inactive', version: 5 },
    });
  });

  it('given an inactive person, when reactivated, then user.reactivated at the next version', () => {
    assert.deepEqual(decideLifecycle({ status: 'inactive', version: 5 }, { type: 'reactivate' }), {
      eventType: 'user.reactivated',
      next: { status: 'active', version: 6 },
    });
  });

  for (const [status, command] of [['inactive', 'deactivate'], ['archived', 'deactivate'], ['active', 'reactivate'], ['archived', 'reactivate']] as const) {
    it(`given a ${status} person, when ${command}d, then 409 naming the status`, () => {
      assert.throws(
        () => decideLifecycle({ status, version: 1 }, { type: command }),
        (e: unknown) => e instanceof HttpProblem && e.status === 409 && e.message.includes(status),
      );
    });
  }
});
