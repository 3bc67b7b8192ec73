import { runStandalone } from '@roster/platform/service';
import { directoryService } from './service.js';

await runStandalone(directoryService);
