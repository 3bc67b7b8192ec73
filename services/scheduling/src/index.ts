export { schedulingService } from './service.js';
