import type { CascadeEffect } from '@roster/platform/people-projection';

/**
 * Identity's column of the cascade table. Its projection's status decides whether the person may
 * log in, so the projection update done for every person event is the effect itself; logins and
 * sessions (issue: identity service) add their revocation counts to this step.
 */
export const refuseLoginsOfInactivePerson: CascadeEffect = {
  step: 'refuse_logins',
  apply: async () => ({ peopleBlocked: 1 }),
  preview: async () => ({ peopleBlocked: 1 }),
};

export const allowLoginsAgain: CascadeEffect = {
  step: 'allow_logins',
  apply: async () => ({ peopleUnblocked: 1 }),
  preview: async () => ({ peopleUnblocked: 1 }),
};
