import type { ClientOptions, DriverAdapter } from '@roster/platform/db/database';
import { PrismaClient } from './generated/client.js';

export type IdentityDb = PrismaClient;
/** The client inside `$transaction(async (tx) => …)`. */
export type IdentityTx = Parameters<Parameters<IdentityDb['$transaction']>[0]>[0];

export const makeClient = (adapter: DriverAdapter, options?: ClientOptions): IdentityDb => new PrismaClient({ adapter: adapter as never, ...options });
