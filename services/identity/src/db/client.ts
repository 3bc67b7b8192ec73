import type { DriverAdapter } from '@roster/platform/db/database';
import { PrismaClient } from './generated/client.js';

export type IdentityDb = PrismaClient;

export const makeClient = (adapter: DriverAdapter): IdentityDb => new PrismaClient({ adapter: adapter as never });
