import type { z } from 'zod';
import type { EventEnvelope, ServiceName } from './envelope.js';
import * as access from './events/access.js';
import * as accounts from './events/accounts.js';
import * as cascade from './events/cascade.js';
import * as invitation from './events/invitation.js';
import * as login from './events/login.js';
import * as notification from './events/notification.js';
import * as requests from './events/requests.js';
import * as user from './events/user.js';
import * as visits from './events/visits.js';

/**
 * The event catalogue: every event type Roster publishes, its payload schema and version,
 * who produces it and who is expected to react.
 *
 * Compatible evolution rule (enforced by review and by `catalogue.unit.spec.ts`):
 * - a payload version may only ADD optional fields (`.optional()`, possibly also `.nullable()`);
 *   it never removes, renames or changes the type of a field, and never tightens a constraint;
 * - loosening a constraint (a longer max, a new enum value) is compatible for producers only:
 *   consumers on an older catalogue dead-letter such events, so deploy consumers first;
 * - consumers ignore fields they do not know (zod objects strip unknown keys);
 * - anything else is a new event type (`user.deactivated.v2` is NOT how we do it: pick a new name)
 *   published next to the old one until every subscriber has moved.
 * `version` is the current payload version; it travels as the `dataversion` attribute.
 */
export interface EventDefinition<TType extends string = string, TSchema extends z.ZodType = z.ZodType> {
  type: TType;
  version: number;
  /** Kafka topic family (`roster.<family>`), the first segment of the type. */
  family: string;
  summary: string;
  /** Services that publish this type. */
  producers: readonly ServiceName[];
  /** Services that subscribe to this type. */
  consumers: readonly ServiceName[];
  /**
   * Services whose cascade step the operation status waits for when this event starts or
   * continues a cascade (B4). A subset of `consumers`.
   */
  stepsExpectedFrom: readonly ServiceName[];
  /** What `subject` holds. */
  subject: string;
  payload: TSchema;
}

const define = <TType extends string, TSchema extends z.ZodType>(
  d: Omit<EventDefinition<TType, TSchema>, 'family'>,
): EventDefinition<TType, TSchema> => ({ ...d, family: d.type.split('.')[0]! });

const PERSON = 'the person id';
const everyoneElse = ['identity', 'scheduling', 'notifications'] as const;
/** A deactivation or archive is also heard by the directory itself: its revocation feed refuses the person's tokens at once (B2). */
const everyone = ['identity', 'directory', 'scheduling', 'notifications'] as const;

export const catalogue = {
  'user.created': define({
    type: 'user.created', version: 1, producers: ['directory'], subject: PERSON, payload: user.userCreated,
    summary: 'A client or staff member was added to a tenant.',
    consumers: everyoneElse, stepsExpectedFrom: [],
  }),
  'user.updated': define({
    type: 'user.updated', version: 1, producers: ['directory'], subject: PERSON, payload: user.userUpdated,
    summary: "A person's profile (names, e-mail, phone) changed.",
    consumers: everyoneElse, stepsExpectedFrom: [],
  }),
  'user.deactivated': define({
    type: 'user.deactivated', version: 1, producers: ['directory'], subject: PERSON, payload: user.userDeactivated,
    summary: 'A person was deactivated (P5): logins off, sessions revoked, visits unassigned or deleted, messages stopped.',
    consumers: everyone, stepsExpectedFrom: everyoneElse,
  }),
  'user.reactivated': define({
    type: 'user.reactivated', version: 1, producers: ['directory'], subject: PERSON, payload: user.userReactivated,
    summary: 'A deactivated person was made active again (P5). What a deactivation unassigned stays unassigned.',
    consumers: everyoneElse, stepsExpectedFrom: everyoneElse,
  }),
  'user.archived': define({
    type: 'user.archived', version: 1, producers: ['directory'], subject: PERSON, payload: user.userArchived,
    summary: 'A person was archived ("deleted", P6): password made unusable, same cascade as deactivation.',
    consumers: everyone, stepsExpectedFrom: everyoneElse,
  }),
  'user.restored': define({
    type: 'user.restored', version: 1, producers: ['directory'], subject: PERSON, payload: user.userRestored,
    summary: 'An archived person was restored (P6); a new password must be set before logging in.',
    consumers: everyoneElse, stepsExpectedFrom: everyoneElse,
  }),
  'login.granted': define({
    type: 'login.granted', version: 1, producers: ['identity'], subject: PERSON, payload: login.loginGranted,
    summary: 'A person got a login (L1); the credentials message is delivered by notifications (L4).',
    consumers: ['directory', 'notifications'], stepsExpectedFrom: ['notifications'],
  }),
  'login.enabled': define({
    type: 'login.enabled', version: 1, producers: ['identity'], subject: PERSON, payload: login.loginEnabled,
    summary: 'A switched-off login was switched on again (L6).',
    consumers: ['directory'], stepsExpectedFrom: [],
  }),
  'login.disabled': define({
    type: 'login.disabled', version: 1, producers: ['identity'], subject: PERSON, payload: login.loginDisabled,
    summary: "A login was switched off without touching the person (L6); the person's tokens stop working.",
    consumers: ['identity', 'directory', 'scheduling', 'notifications'], stepsExpectedFrom: [],
  }),
  'password.reset': define({
    type: 'password.reset', version: 2, producers: ['identity'], subject: PERSON, payload: login.passwordReset,
    summary: 'A password was replaced: a new temporary one to deliver (L5), or made unusable by an archive (P6).',
    consumers: ['directory', 'notifications'], stepsExpectedFrom: ['notifications'],
  }),
  'sessions.revoked': define({
    type: 'sessions.revoked', version: 2, producers: ['identity'], subject: PERSON, payload: login.sessionsRevoked,
    summary: "Every token of the person issued before notBefore is refused by every service (B2).",
    consumers: ['identity', 'directory', 'scheduling', 'notifications'], stepsExpectedFrom: [],
  }),
  'impersonation.started': define({
    type: 'impersonation.started', version: 1, producers: ['identity'], subject: PERSON, payload: login.impersonationStarted,
    summary: 'An owner or admin began acting as a person (L7, B5); on the audit trail of both.',
    consumers: ['directory'], stepsExpectedFrom: [],
  }),
  'impersonation.ended': define({
    type: 'impersonation.ended', version: 1, producers: ['identity'], subject: PERSON, payload: login.impersonationEnded,
    summary: 'An impersonation ended: logged out, its impersonator logged out, or expired (L7, B5); on the audit trail of both.',
    consumers: ['directory'], stepsExpectedFrom: [],
  }),
  'access.granted': define({
    type: 'access.granted', version: 1, producers: ['directory'], subject: PERSON, payload: access.accessGranted,
    summary: 'A staff member got a role in an account (P4).',
    consumers: ['identity', 'scheduling', 'notifications'], stepsExpectedFrom: ['identity'],
  }),
  'access.revoked': define({
    type: 'access.revoked', version: 1, producers: ['directory'], subject: PERSON, payload: access.accessRevoked,
    summary: 'A membership was removed (P4); tokens carrying it stop working and a notice is sent.',
    consumers: ['identity', 'directory', 'scheduling', 'notifications'], stepsExpectedFrom: ['identity', 'notifications'],
  }),
  'role.changed': define({
    type: 'role.changed', version: 1, producers: ['directory'], subject: PERSON, payload: access.roleChanged,
    summary: "A membership's role changed; tokens carrying the old role stop working.",
    consumers: ['identity', 'directory', 'scheduling', 'notifications'], stepsExpectedFrom: ['identity'],
  }),
  'account.created': define({
    type: 'account.created', version: 1, producers: ['directory'], subject: 'the account id', payload: accounts.accountCreated,
    summary: "An account was added to a tenant's tree (P1): the root, a branch, a client account or an area.",
    consumers: ['identity', 'scheduling', 'notifications'], stepsExpectedFrom: [],
  }),
  'role.defined': define({
    type: 'role.defined', version: 1, producers: ['directory'], subject: 'the role key', payload: accounts.roleDefined,
    summary: "A tenant's custom role was defined or its permissions changed (P2); tokens carry the permissions.",
    consumers: ['identity', 'scheduling'], stepsExpectedFrom: [],
  }),
  'client.assigned': define({
    type: 'client.assigned', version: 1, producers: ['directory'], subject: 'the client id', payload: accounts.clientAssigned,
    summary: 'A client was assigned to a staff member (a salesperson sees only their assigned clients, P3), or unassigned.',
    consumers: ['scheduling'], stepsExpectedFrom: [],
  }),
  'invitation.created': define({
    type: 'invitation.created', version: 1, producers: ['directory'], subject: 'the invitation id',
    payload: invitation.invitationCreated,
    summary: 'Someone was invited (or an invitation resent) to an account with a role (P8).',
    consumers: ['identity', 'notifications'], stepsExpectedFrom: ['notifications'],
  }),
  'invitation.accepted': define({
    type: 'invitation.accepted', version: 1, producers: ['identity'], subject: 'the invitation id',
    payload: invitation.invitationAccepted,
    summary: 'An invitee registered or logged in and joined the account (P8).',
    consumers: ['directory'], stepsExpectedFrom: ['directory'],
  }),
  'invitation.withdrawn': define({
    type: 'invitation.withdrawn', version: 1, producers: ['directory'], subject: 'the invitation id',
    payload: invitation.invitationWithdrawn,
    summary: 'A pending invitation was withdrawn; its link stops working.',
    consumers: ['identity'], stepsExpectedFrom: [],
  }),
  'invitation.updated': define({
    type: 'invitation.updated', version: 1, producers: ['directory'], subject: 'the invitation id',
    payload: invitation.invitationUpdated,
    summary: "A pending invitation's account or role was edited before acceptance (P8).",
    consumers: ['identity'], stepsExpectedFrom: [],
  }),
  'visits.unassigned': define({
    type: 'visits.unassigned', version: 1, producers: ['scheduling'], subject: 'the sitter id',
    payload: visits.visitsUnassigned,
    summary: "A sitter's upcoming visits lost their sitter; managers are told how many need one.",
    consumers: ['directory', 'notifications'], stepsExpectedFrom: ['notifications'],
  }),
  'visits.deleted': define({
    type: 'visits.deleted', version: 1, producers: ['scheduling'], subject: 'the client id', payload: visits.visitsDeleted,
    summary: "A deactivated client's future incomplete visits, surcharges and schedules were deleted.",
    consumers: ['directory'], stepsExpectedFrom: [],
  }),
  'schedule.digest': define({
    type: 'schedule.digest', version: 1, producers: ['scheduling'], subject: 'the sitter id', payload: visits.scheduleDigest,
    summary: "A sitter's visits of one day, once per sitter per day: the automatic schedule e-mail (N2) when subscribed.",
    consumers: ['notifications'], stepsExpectedFrom: [],
  }),
  'request.submitted': define({
    type: 'request.submitted', version: 1, producers: ['scheduling'], subject: 'the client id', payload: requests.requestSubmitted,
    summary: 'A client asked for visits, a change or a cancellation (S3); the event e-mail monitors for it tell their holders.',
    consumers: ['directory', 'notifications'], stepsExpectedFrom: [],
  }),
  'request.approved': define({
    type: 'request.approved', version: 1, producers: ['scheduling'], subject: 'the client id', payload: requests.requestApproved,
    summary: "A manager approved a client's request (S3): the visits were created (with the default sitter), moved or cancelled; the client is told.",
    consumers: ['directory', 'notifications'], stepsExpectedFrom: [],
  }),
  'request.declined': define({
    type: 'request.declined', version: 1, producers: ['scheduling'], subject: 'the client id', payload: requests.requestDeclined,
    summary: "A client's request was declined with a reason, by a manager or by the system (its visit is gone); the client is told.",
    consumers: ['directory', 'notifications'], stepsExpectedFrom: [],
  }),
  'cascade.preview_requested': define({
    type: 'cascade.preview_requested', version: 1, producers: ['directory'], subject: PERSON,
    payload: cascade.cascadePreviewRequested,
    summary: 'Impact preview (B1): every service reports what a deactivation or archive would do, changing nothing.',
    consumers: everyoneElse, stepsExpectedFrom: everyoneElse,
  }),
  'cascade.step.completed': define({
    type: 'cascade.step.completed', version: 2, producers: ['identity', 'directory', 'scheduling', 'notifications'], subject: 'the operation id',
    payload: cascade.cascadeStepCompleted,
    summary: "A service finished its step of a cascade; directory's operation status is built from these (B4). Produced by every service.",
    consumers: ['directory'], stepsExpectedFrom: [],
  }),
  'notification.sent': define({
    type: 'notification.sent', version: 1, producers: ['notifications'], subject: 'the message id',
    payload: notification.notificationSent,
    summary: 'A message was accepted by a provider (N1).',
    consumers: [], stepsExpectedFrom: [],
  }),
  'notification.failed': define({
    type: 'notification.failed', version: 1, producers: ['notifications'], subject: 'the message id',
    payload: notification.notificationFailed,
    summary: 'A message failed permanently after its retries (N1); the reason is in the delivery log.',
    consumers: [], stepsExpectedFrom: [],
  }),
} as const;

export type Catalogue = typeof catalogue;
export type EventType = keyof Catalogue;
export const EVENT_TYPES = Object.keys(catalogue) as EventType[];

/** Payload type of an event type. */
export type EventData<T extends EventType> = z.infer<Catalogue[T]['payload']>;

/** A fully typed event: a discriminated union over `type`. */
export type RosterEvent = { [T in EventType]: EventEnvelope<T, EventData<T>> }[EventType];
export type EventOf<T extends EventType> = Extract<RosterEvent, { type: T }>;

export const isEventType = (type: string): type is EventType => Object.hasOwn(catalogue, type);

export const definitionOf = (type: EventType): EventDefinition => catalogue[type];

/** Types a service subscribes to, from the catalogue. */
export const typesConsumedBy = (service: ServiceName): EventType[] =>
  EVENT_TYPES.filter((t) => catalogue[t].consumers.includes(service));

/** The services whose step an operation started by `type` waits for. */
export const expectedStepsFor = (type: EventType): readonly ServiceName[] => catalogue[type].stepsExpectedFrom;

/** Kafka topic (or AMQP routing-key prefix) of an event type's family. */
export const topicOf = (type: string): string => `roster.${type.split('.')[0]}`;
