import { conflict } from '@roster/platform/http/problem';

/** A person's lifecycle as the directory decides it (P5, P6). Pure: tested without a database. */
export type PersonStatus = 'active' | 'inactive' | 'archived';

export interface PersonState {
  status: PersonStatus;
  version: number;
}

export type LifecycleCommand = { type: 'deactivate' } | { type: 'reactivate' };

export interface LifecycleDecision {
  eventType: 'user.deactivated' | 'user.reactivated';
  next: PersonState;
}

/** Decides what a lifecycle command does to a person, or refuses it with a 409 that says why. */
export function decideLifecycle(state: PersonState, command: LifecycleCommand): LifecycleDecision {
  switch (command.type) {
    case 'deactivate':
      if (state.status !== 'active') throw conflict(`the person is ${state.status}, not active`, { status: state.status });
      return { eventType: 'user.deactivated', next: { status: 'inactive', version: state.version + 1 } };
    case 'reactivate':
      if (state.status !== 'inactive') throw conflict(`the person is ${state.status}, not inactive`, { status: state.status });
      return { eventType: 'user.reactivated', next: { status: 'active', version: state.version + 1 } };
  }
}
