import { runMigrations } from '@roster/platform/service';
import { identityService } from './service.js';

await runMigrations(identityService);
