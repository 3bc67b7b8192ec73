import type { EffectReport } from '@roster/platform/consumers';

export interface Reaction {
  /** Cascade step name when the catalogue expects notifications' step for this event (B4); none otherwise. */
  step?: string;
  counts: Record<string, number>;
  detail?: string;
}

/** A reaction as the consumer model records it: a cascade step when it names one. */
export const stepOf = (r: Reaction): EffectReport | null => (r.step ? { step: r.step, counts: r.counts, detail: r.detail ?? null } : null);
