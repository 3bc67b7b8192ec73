import { runStandalone } from '@roster/platform/service';
import { schedulingService } from './service.js';

await runStandalone(schedulingService);
