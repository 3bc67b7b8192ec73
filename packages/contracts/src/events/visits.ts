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
