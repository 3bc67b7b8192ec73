export { directoryService } from './service.js';
