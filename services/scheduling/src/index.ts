export { schedulingService } from './service.js';
export { publishDailyDigests } from './digest/daily-digest.js';
export { extendScheduleHorizons } from './schedules/generation.js';
