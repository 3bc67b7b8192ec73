import { conflict } from '@roster/platform/errors';

/** A person's lifecycle as the directory decides it (P5, P6). Pure: tested without a database. */
export type PersonStatus = 'active' | 'inactive' | 'archived';

export interface PersonState {
  status: PersonStatus;
  version: number;
}

export type LifecycleAction = 'deactivate' | 'reactivate' | 'archive' | 'restore';
export type LifecycleCommand = { type: LifecycleAction };

export type LifecycleEventType = 'user.deactivated' | 'user.reactivated' | 'user.archived' | 'user.restored';

export interface LifecycleDecision {
  eventType: LifecycleEventType;
  next: PersonState;
}

const RULES: Record<LifecycleAction, { from: readonly PersonStatus[]; to: PersonStatus; eventType: LifecycleEventType; explain: string }> = {
  deactivate: { from: ['active'], to: 'inactive', eventType: 'user.deactivated', explain: 'only an active person can be deactivated' },
  reactivate: { from: ['inactive'], to: 'active', eventType: 'user.reactivated', explain: 'only an inactive person can be reactivated (an archived one is restored)' },
  archive: { from: ['active', 'inactive'], to: 'archived', eventType: 'user.archived', explain: 'the person is already archived' },
  restore: { from: ['archived'], to: 'active', eventType: 'user.restored', explain: 'only an archived person can be restored' },
};

/** Decides what a lifecycle command does to a person, or refuses it with a 409 that says why. */
export function decideLifecycle(state: PersonState, command: LifecycleCommand): LifecycleDecision {
  const rule = RULES[command.type];
  if (!rule.from.includes(state.status)) {
    throw conflict(`the person is ${state.status}: ${rule.explain}`, { state: state.status, action: command.type });
  }
  return { eventType: rule.eventType, next: { status: rule.to, version: state.version + 1 } };
}

/** Which lifecycle actions have an impact preview (B1): those that take something away. */
export const previewable = (action: LifecycleAction): action is 'deactivate' | 'archive' => action === 'deactivate' || action === 'archive';
