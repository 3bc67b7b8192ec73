import type { ClientOptions, DriverAdapter } from '@roster/platform/db/database';
import { PrismaClient } from './generated/client.js';

export type SchedulingDb = PrismaClient;

export const makeClient = (adapter: DriverAdapter, options?: ClientOptions): SchedulingDb => new PrismaClient({ adapter: adapter as never, ...options });
