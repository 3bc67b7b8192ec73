import type { DriverAdapter } from '@roster/platform/db/database';
import { PrismaClient } from './generated/client.js';

export type NotificationsDb = PrismaClient;

export const makeClient = (adapter: DriverAdapter): NotificationsDb => new PrismaClient({ adapter: adapter as never });
