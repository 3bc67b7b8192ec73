import { runMigrations } from '@roster/platform/service';
import { directoryService } from './service.js';

await runMigrations(directoryService);
