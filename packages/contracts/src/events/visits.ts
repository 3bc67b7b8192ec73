import { z } from 'zod';
import { id } from './common.js';

/** Visit cascade facts, produced by scheduling. Subject: the sitter or client id. */
export const visitsUnassigned = z.object({
  sitterId: id,
  /** Visits that need a sitter because of this cascade (managers are told this number). */
  visitCount: z.number().int().nonnegative(),
  /** Ids in this chunk; large sets are split across several events. */
  visitIds: z.array(id).max(1000),
  chunk: z.object({ index: z.number().int().nonnegative(), total: z.number().int().positive() }),
  /** Clients for whom the sitter stopped being the default sitter. */
  defaultSitterClearedFor: z.number().int().nonnegative(),
});

export const visitsDeleted = z.object({
  clientId: id,
  visitCount: z.number().int().nonnegative(),
  surchargeCount: z.number().int().nonnegative(),
  scheduleCount: z.number().int().nonnegative(),
});

/**
 * A sitter's visits of one day, published once per sitter per day by scheduling's daily job;
 * notifications turns it into the automatic schedule e-mail when the sitter subscribed (N2).
 * Subject: the sitter id.
 */
export const scheduleDigest = z.object({
  sitterId: id,
  /** The day, in the tenant's time zone (YYYY-MM-DD). */
  date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  timeZone: z.string().max(64),
  visits: z.array(z.object({
    visitId: id,
    clientId: id,
    clientName: z.string().max(201).nullable(),
    startsAt: z.iso.datetime({ offset: true }),
    endsAt: z.iso.datetime({ offset: true }),
    service: z.string().max(100).nullable(),
  })).max(200),
});
