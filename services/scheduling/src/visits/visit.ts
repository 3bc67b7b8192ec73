import { conflict, forbidden } from '@roster/platform/errors';

/** A visit as S1/S2 decide on it. Pure: tested without a database. */
export interface VisitState {
  status: 'scheduled' | 'completed';
  sitterId: string | null;
  startsAt: Date;
}

/** Who asks: their person id and whether they manage visits or may complete their own. */
export interface VisitActor {
  personId: string;
  manages: boolean;
  completesOwn: boolean;
}

export type VisitCommand =
  | { type: 'assign'; sitterId: string | null }
  | { type: 'complete'; at: Date; early?: boolean };

export type VisitDecision =
  | { type: 'assigned'; sitterId: string }
  | { type: 'unassigned' }
  | { type: 'completed'; by: string };

/**
 * Decides what a command does to a visit, or refuses it (409 for the visit's state, 403 for who
 * asks). Scope (who may see the visit at all) is decided before, by the query that finds it.
 */
export function decideVisit(state: VisitState, command: VisitCommand, actor: VisitActor): VisitDecision {
  switch (command.type) {
    case 'assign':
      if (!actor.manages) throw forbidden('assigning visits needs the permission visits.manage');
      if (state.status === 'completed') throw conflict('the visit is completed: its sitter can no longer change', { state: state.status });
      return command.sitterId ? { type: 'assigned', sitterId: command.sitterId } : { type: 'unassigned' };
    case 'complete': {
      const own = state.sitterId === actor.personId && actor.completesOwn;
      if (!actor.manages && !own) throw forbidden('only the visit\'s own sitter (visits.complete_own) or a manager (visits.manage) may complete it');
      if (state.status === 'completed') throw conflict('the visit is already completed', { state: state.status });
      // A visit is done once it has begun (issue 16: a sitter completed one three years ahead). A
      // manager may record it done before, saying so (`early`): a visit moved and done already.
      if (command.at < state.startsAt && !(command.early && actor.manages)) {
        throw conflict(
          `the visit has not started yet: it starts at ${state.startsAt.toISOString()}${actor.manages ? '; a manager may complete it early with {"early": true}' : ''}`,
          { state: 'not_started', startsAt: state.startsAt.toISOString() },
        );
      }
      return { type: 'completed', by: actor.personId };
    }
  }
}
