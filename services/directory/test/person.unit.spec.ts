import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { DomainError } from '@roster/platform/errors';
import { decideLifecycle, type LifecycleAction, type PersonStatus } from '../src/people/person.js';

// P5, P6 as given/when/then: given a person's state, when a lifecycle command arrives, then this event and version.
describe('person lifecycle (P5, P6)', () => {
  const allowed: [PersonStatus, LifecycleAction, string, PersonStatus][] = [
    ['active', 'deactivate', 'user.deactivated', 'inactive'],
    ['inactive', 'reactivate', 'user.reactivated', 'active'],
    ['active', 'archive', 'user.archived', 'archived'],
    ['inactive', 'archive', 'user.archived', 'archived'],
    ['archived', 'restore', 'user.restored', 'active'],
  ];
  for (const [status, action, eventType, next] of allowed) {
    it(`given a ${status} person, when ${action}, then ${eventType} and ${next} at the next version`, () => {
      assert.deepEqual(decideLifecycle({ status, version: 4 }, { type: action }), { eventType, next: { status: next, version: 5 } });
    });
  }

  const refused: [PersonStatus, LifecycleAction][] = [
    ['inactive', 'deactivate'], ['archived', 'deactivate'], ['active', 'reactivate'], ['archived', 'reactivate'],
    ['archived', 'archive'], ['active', 'restore'], ['inactive', 'restore'],
  ];
  for (const [status, action] of refused) {
    it(`given a ${status} person, when ${action}, then a 409 naming the status and the action`, () => {
      assert.throws(
        () => decideLifecycle({ status, version: 1 }, { type: action }),
        (e: unknown) => e instanceof DomainError && e.kind === 'conflict' && e.message.includes(status) && e.extensions.action === action,
      );
    });
  }
});
