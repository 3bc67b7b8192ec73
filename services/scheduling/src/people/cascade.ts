import type { PersonLifecycle } from '@roster/platform/people-projection';
import type { CascadeEffect } from '@roster/platform/people-projection';
import type { BusLogger } from '@roster/platform/bus/types';
import { keepVisitsAsTheyAre, previewReleaseOfVisits, releaseVisitsOfDepartedPerson, type StepResult } from '../visits/cascade.js';
import { recordProfile } from './projection.js';

/**
 * Scheduling's column of the cascade table on the platform's person lifecycle mechanism, plus
 * what only scheduling keeps of a person: names and first memberships (`recordProfile`).
 */
const departure: CascadeEffect<StepResult> = {
  step: (e) => (e.data.kind === 'client' ? 'delete_upcoming_visits' : 'unassign_upcoming_visits'),
  apply: releaseVisitsOfDepartedPerson,
};
const comeback: CascadeEffect<StepResult> = { step: 'keep_visits_unchanged', apply: keepVisitsAsTheyAre };

export const schedulingLifecycle = (logger: BusLogger): PersonLifecycle<StepResult> => ({
  service: 'scheduling',
  logger,
  effects: { 'user.deactivated': departure, 'user.archived': departure, 'user.reactivated': comeback, 'user.restored': comeback },
  preview: previewReleaseOfVisits,
  recordProfile,
});
