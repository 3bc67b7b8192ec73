import type { ClientOptions, DriverAdapter } from '@roster/platform/db/database';
import { PrismaClient } from './generated/client.js';

export type DirectoryDb = PrismaClient;
export type DirectoryTx = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0];

export const makeClient = (adapter: DriverAdapter, options?: ClientOptions): DirectoryDb => new PrismaClient({ adapter: adapter as never, ...options });
