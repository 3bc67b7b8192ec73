/** Every payload schema, for code that needs the zod objects themselves. */
export * from './events/common.js';
export * from './events/user.js';
export * from './events/login.js';
export * from './events/access.js';
export * from './events/invitation.js';
export * from './events/visits.js';
export * from './events/cascade.js';
export * from './events/notification.js';
export * from './events/accounts.js';
