import { runStandalone } from '@roster/platform/service';
import { notificationsService } from './service.js';

await runStandalone(notificationsService);
