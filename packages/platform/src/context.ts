import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What the code running now works for: the cascade it belongs to and what caused it. Set by the
 * HTTP kit for a request and by the bus for a delivery; read by logging, the outbox (to stamp
 * correlation and causation on the events it writes) and cascade steps.
 */
export interface WorkContext {
  correlationId: string;
  /** The event (or request) that caused the current work. */
  causationId?: string | undefined;
  tenantId?: string | undefined;
}

const storage = new AsyncLocalStorage<WorkContext>();

export const currentWork = (): WorkContext | undefined => storage.getStore();
export const runInWork = <T>(work: WorkContext, fn: () => T): T => storage.run(work, fn);
