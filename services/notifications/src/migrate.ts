import { runMigrations } from '@roster/platform/service';
import { notificationsService } from './service.js';

await runMigrations(notificationsService);
