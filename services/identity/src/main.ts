import { runStandalone } from '@roster/platform/service';
import { identityService } from './service.js';

await runStandalone(identityService);
