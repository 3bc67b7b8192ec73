import { IANAZone } from 'luxon';
import { z } from 'zod';

/** Shapes several scheduling routers validate the same way (visits and client requests). */
export const instant = z.iso.datetime({ offset: true }).transform((s) => new Date(s));
export const ianaZone = z.string().max(64).refine((zone) => IANAZone.isValidZone(zone), 'an IANA time zone such as Europe/London');

const MAX_VISIT_MS = 7 * 86_400_000;

/** A visit's window: it ends after it starts, within 7 days (a visit created or asked for). */
export function checkVisitWindow(v: { startsAt: unknown; endsAt: unknown }, c: z.RefinementCtx): void {
  // Zod runs this even when a field failed (and was not transformed): compare only real instants.
  if (!(v.startsAt instanceof Date) || !(v.endsAt instanceof Date)) return;
  if (v.endsAt <= v.startsAt) c.addIssue({ code: 'custom', path: ['endsAt'], message: 'endsAt must be after startsAt' });
  else if (v.endsAt.getTime() - v.startsAt.getTime() > MAX_VISIT_MS) c.addIssue({ code: 'custom', path: ['endsAt'], message: 'a visit lasts at most 7 days' });
}
