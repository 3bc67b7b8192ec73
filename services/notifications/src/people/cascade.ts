import type { CascadeEffect } from '@roster/platform/people-projection';

/**
 * Notifications' column of the cascade table: an inactive person receives nothing more. The
 * projection's status is what the senders check; subscriptions and monitors (issue:
 * notifications service) add their counts to this step.
 */
export const stopMessagesToPerson: CascadeEffect = {
  step: 'stop_messages',
  apply: async () => ({ recipientsSuppressed: 1 }),
  preview: async () => ({ recipientsSuppressed: 1 }),
};

export const resumeMessagesToPerson: CascadeEffect = {
  step: 'resume_messages',
  apply: async () => ({ recipientsResumed: 1 }),
  preview: async () => ({ recipientsResumed: 1 }),
};
