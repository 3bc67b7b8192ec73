import { runMigrations } from '@roster/platform/service';
import { schedulingService } from './service.js';

await runMigrations(schedulingService);
