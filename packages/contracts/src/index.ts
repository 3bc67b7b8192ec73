export * from './envelope.js';
export * from './catalogue.js';
export * from './event.js';
export * from './permissions.js';
export * from './roles.js';
export * as schemas from './schemas.js';
export * from './text.js';
export type { Actor, Delivery, PersonKind, SealedSecret } from './events/common.js';
export type { AccountKind } from './events/accounts.js';
