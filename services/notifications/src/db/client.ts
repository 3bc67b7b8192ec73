import type { ClientOptions, DriverAdapter } from '@roster/platform/db/database';
import { PrismaClient } from './generated/client.js';

export type NotificationsDb = PrismaClient;

export const makeClient = (adapter: DriverAdapter, options?: ClientOptions): NotificationsDb => new PrismaClient({ adapter: adapter as never, ...options });
