import type { ServiceContext } from '@roster/platform/service';
import type { DirectoryDb } from './db/client.js';

/**
 * What directory's routers, consumers and jobs are given: its own file, so that features depend on it
 * and not on service.ts, which imports them all (no import circles, issue 19).
 */
export type DirectoryContext = ServiceContext<DirectoryDb>;
