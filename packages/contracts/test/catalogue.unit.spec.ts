import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { jsonSchemaOf } from '../src/asyncapi.js';
import {
  catalogue,
  EVENT_TYPES,
  expectedStepsFor,
  isEventType,
  topicOf,
  typesConsumedBy,
  type EventData,
  type EventType,
} from '../src/catalogue.js';
import { envelopeAttributesSchema, SERVICES, sourceOf } from '../src/envelope.js';
import { createEvent, MalformedEventError, parseEvent } from '../src/event.js';
import { ALL_PERMISSIONS, isPermission, PERMISSIONS } from '../src/permissions.js';
import { BUILT_IN_ROLE_KEYS, BUILT_IN_ROLES } from '../src/roles.js';

// ---------------------------------------------------------------------------------------------
// A valid payload of every type: the compiler insists on one per catalogue entry.

const actor = { kind: 'person', personId: 'p-admin', impersonatorId: null } as const;
const sealed = { kid: 'notifications-2025', alg: 'ECDH-ES+A256GCM', ciphertext: 'c2VhbGVk' };
const at = '2025-03-30T01:30:00.000+01:00';
const lifecycle: EventData<'user.deactivated'> = { personId: 'p-1', kind: 'staff', roleKeys: ['staff'], reason: 'left the company', actor };
const profile = { personId: 'p-1', kind: 'client', firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.com', phone: null } as const;

const samples: { [T in EventType]: EventData<T> } = {
  'user.created': { ...profile, accountId: 'a-1', roleKey: null, actor },
  'user.updated': { ...profile, actor },
  'user.deactivated': lifecycle,
  'user.reactivated': lifecycle,
  'user.archived': lifecycle,
  'user.restored': lifecycle,
  'login.granted': {
    personId: 'p-1', username: 'ada', temporary: true, expiresAt: at,
    delivery: { channel: 'email', template: 'client_login_credentials', to: 'ada@example.com' }, secret: sealed, actor,
  },
  'login.enabled': { personId: 'p-1', username: 'ada', actor },
  'login.disabled': { personId: 'p-1', username: 'ada', actor },
  'password.reset': { personId: 'p-1', reason: 'archived', temporary: false, expiresAt: null, delivery: null, secret: null, actor },
  'sessions.revoked': { personId: 'p-1', notBefore: at, reason: 'deactivated', sessionCount: 2 },
  'impersonation.started': { impersonationId: 'i-1', personId: 'p-1', impersonatorId: 'p-admin', reason: 'checking her calendar', expiresAt: at, actor },
  'impersonation.ended': { impersonationId: 'i-1', personId: 'p-1', impersonatorId: 'p-admin', endedBy: 'expiry', endedAt: at, actor },
  'access.granted': { personId: 'p-1', accountId: 'a-1', roleKey: 'manager', actor },
  'access.revoked': { personId: 'p-1', accountId: 'a-1', roleKey: 'manager', notBefore: at, actor },
  'role.changed': { personId: 'p-1', accountId: 'a-1', fromRoleKey: 'standard', toRoleKey: 'manager', notBefore: at, actor },
  'invitation.created': {
    invitationId: 'i-1', accountId: 'a-1', roleKey: 'staff',
    invitee: { firstName: 'Grace', lastName: 'Hopper', email: null, phone: '+14155550100' },
    channel: 'sms', token: sealed, expiresAt: at, resend: false, actor,
  },
  'invitation.accepted': {
    invitationId: 'i-1', personId: 'p-2', accountId: 'a-1', roleKey: 'staff', newPerson: true,
    registration: { firstName: 'Grace', lastName: 'Hopper', phone: '+14155550100', email: null, marketingConsent: false, termsAcceptedAt: at },
  },
  'invitation.withdrawn': { invitationId: 'i-1', actor },
  'invitation.updated': { invitationId: 'i-1', accountId: 'a-2', roleKey: 'manager', expiresAt: at, actor },
  'account.created': { accountId: 'a-2', name: 'North area', kind: 'area', parentId: 'a-1', actor },
  'role.defined': { roleKey: 'dispatcher_lite', name: 'Dispatcher (lite)', permissions: ['people.read', 'visits.manage'], scope: 'account', rank: 45, actor },
  'client.assigned': { clientId: 'p-1', staffId: 'p-9', actor },
  'schedule.digest': {
    sitterId: 'p-9', date: '2025-03-30', timeZone: 'Europe/London',
    visits: [{ visitId: 'v-1', clientId: 'p-1', clientName: 'Ada Lovelace', startsAt: at, endsAt: at, service: 'walk' }],
  },
  'visits.unassigned': { sitterId: 'p-1', visitCount: 37, visitIds: ['v-1', 'v-2'], chunk: { index: 0, total: 1 }, defaultSitterClearedFor: 4 },
  'visits.deleted': { clientId: 'p-1', visitCount: 3, surchargeCount: 1, scheduleCount: 1 },
  'request.submitted': {
    requestId: 'r-1', clientId: 'p-1', clientName: 'Ada Lovelace', kind: 'visits', visits: [{ startsAt: at, endsAt: at, service: 'walk' }],
    visitId: null, note: 'the key is under the mat', timeZone: 'Europe/London', actor,
  },
  'request.approved': { requestId: 'r-1', clientId: 'p-1', kind: 'visits', visitIds: ['v-1'], visits: [{ startsAt: at, endsAt: at, service: null }], timeZone: 'UTC', sitterId: 'p-9', actor },
  'request.declined': { requestId: 'r-1', clientId: 'p-1', kind: 'cancel', reason: 'the visit no longer exists', actor },
  'cascade.preview_requested': { action: 'deactivate', personId: 'p-1', kind: 'staff', roleKeys: ['staff'] },
  'cascade.step.completed': {
    operationId: 'op-1', service: 'scheduling', step: 'unassign_future_visits', outcome: 'applied',
    counts: { visits: 37, defaultSitter: 4 }, durationMs: 12.5, causeEventId: 'e-1', causeType: 'user.deactivated', dryRun: false, detail: null,
  },
  'notification.sent': { messageId: 'm-1', template: 'staff_login_credentials', channel: 'email', recipientPersonId: 'p-1', provider: 'smtp' },
  'notification.failed': { messageId: 'm-1', template: 'invitation', channel: 'sms', recipientPersonId: null, reason: 'number unreachable', attempts: 5 },
};

const producerOf = (type: EventType) => catalogue[type].producers[0]!;

const newEvent = <T extends EventType>(type: T, data: EventData<T> = samples[type]) =>
  createEvent(producerOf(type), {
    type,
    subject: 'subject-1',
    tenantId: 'tenant-1',
    correlationId: 'op-1',
    causationId: 'req-1',
    subjectVersion: 3,
    data,
    id: `evt-${type}`,
    time: new Date('2025-03-30T00:30:00Z'),
  });

/** What travels on the wire: plain JSON, as a consumer receives it. */
const wire = (value: unknown): Record<string, unknown> => JSON.parse(JSON.stringify(value)) as Record<string, unknown>;

const rejection = (raw: unknown): string => {
  try {
    parseEvent(raw);
  } catch (error) {
    assert.ok(error instanceof MalformedEventError, `expected a MalformedEventError, got ${String(error)}`);
    return error.message;
  }
  assert.fail('parseEvent accepted a malformed event');
};

// ---------------------------------------------------------------------------------------------

describe('event catalogue', () => {
  it('names every type like `user.deactivated`, under its own key, without a version suffix', () => {
    const typeRule = envelopeAttributesSchema.shape.type;
    for (const type of EVENT_TYPES) {
      const def = catalogue[type];
      assert.equal(def.type, type, `catalogue key ${type} holds ${def.type}`);
      assert.ok(typeRule.safeParse(type).success, `${type} breaks the naming rule`);
      assert.match(type, /^[a-z]+(\.[a-z_]+)+$/);
      assert.doesNotMatch(type, /\.v\d+$/, `${type}: a new version is a new name, never a .vN suffix`);
      assert.ok(isEventType(type));
      assert.ok(Number.isInteger(def.version) && def.version >= 1, `${type} version`);
      assert.ok(def.summary.length > 0 && def.subject.length > 0, `${type} needs a summary and a subject`);
    }
    assert.equal(isEventType('user.teleported'), false);
    assert.equal(isEventType('toString'), false);
  });

  it("puts every type in its family's Kafka topic", () => {
    for (const type of EVENT_TYPES) {
      const def = catalogue[type];
      assert.equal(def.family, type.split('.')[0], `${type} family`);
      assert.equal(topicOf(type), `roster.${def.family}`, `${type} topic`);
    }
    assert.equal(topicOf('user.deactivated'), 'roster.user');
    assert.equal(topicOf('cascade.step.completed'), 'roster.cascade');
  });

  it('names only known services, and every type has a producer', () => {
    for (const type of EVENT_TYPES) {
      const def = catalogue[type];
      assert.ok(def.producers.length > 0, `${type} has no producer`);
      for (const service of [...def.producers, ...def.consumers, ...def.stepsExpectedFrom]) {
        assert.ok((SERVICES as readonly string[]).includes(service), `${type}: unknown service ${service}`);
      }
      assert.equal(new Set(def.consumers).size, def.consumers.length, `${type}: duplicate consumer`);
      assert.equal(new Set(def.producers).size, def.producers.length, `${type}: duplicate producer`);
    }
  });

  it('expects cascade steps only from consumers, never from the producer itself', () => {
    for (const type of EVENT_TYPES) {
      const def = catalogue[type];
      for (const service of def.stepsExpectedFrom) {
        assert.ok(def.consumers.includes(service), `${type}: a step is expected from ${service}, which does not consume it`);
        assert.ok(!def.producers.includes(service), `${type}: its producer ${service} is listed as an expected step`);
      }
      assert.deepEqual(expectedStepsFor(type), def.stepsExpectedFrom);
    }
    assert.deepEqual([...expectedStepsFor('user.deactivated')].sort(), ['identity', 'notifications', 'scheduling']);
  });

  it('tells each service which types it consumes', () => {
    for (const service of SERVICES) {
      assert.deepEqual(
        typesConsumedBy(service),
        EVENT_TYPES.filter((t) => catalogue[t].consumers.includes(service)),
      );
    }
    assert.ok(typesConsumedBy('scheduling').includes('user.deactivated'));
    assert.ok(!typesConsumedBy('scheduling').includes('notification.sent'));
  });
});

describe('createEvent and parseEvent', () => {
  it('builds, for every type, an envelope that parseEvent accepts, with the right dataversion', () => {
    for (const type of EVENT_TYPES) {
      const event = newEvent(type);
      assert.equal(event.dataversion, catalogue[type].version, `${type} dataversion`);
      assert.equal(event.specversion, '1.0');
      assert.equal(event.datacontenttype, 'application/json');
      assert.equal(event.source, sourceOf(producerOf(type)));
      assert.equal(event.tenantid, 'tenant-1');
      assert.equal(event.correlationid, 'op-1');
      assert.equal(event.causationid, 'req-1');
      assert.equal(event.subjectversion, 3);
      assert.equal(event.time, '2025-03-30T00:30:00.000Z');
      assert.deepEqual(parseEvent(wire(event)), event, `${type} does not survive the wire`);
    }
  });

  it('gives each event a fresh id unless one is passed', () => {
    const base = { type: 'login.enabled', subject: 'p-1', tenantId: 't', correlationId: 'c', data: samples['login.enabled'] } as const;
    const a = createEvent('identity', base);
    const b = createEvent('identity', base);
    assert.notEqual(a.id, b.id);
    assert.equal(createEvent('identity', { ...base, id: 'fixed' }).id, 'fixed');
    assert.equal('causationid' in a, false, 'no causationid unless given');
    assert.equal('subjectversion' in a, false, 'no subjectversion unless given');
  });

  it('refuses to create an event whose payload does not match the catalogue', () => {
    assert.throws(() =>
      createEvent('directory', {
        type: 'user.deactivated',
        subject: 'p-1',
        tenantId: 't',
        correlationId: 'c',
        data: { ...lifecycle, kind: 'robot' } as unknown as EventData<'user.deactivated'>,
      }),
    );
  });

  it('rejects a wrong payload, naming the type and the field', () => {
    const event = wire(newEvent('user.deactivated'));
    const message = rejection({ ...event, data: { ...(event['data'] as object), kind: 'robot' } });
    assert.match(message, /^invalid user\.deactivated payload: kind: /);
    const nested = rejection({ ...event, data: { ...(event['data'] as object), actor: { kind: 'person', personId: 7, impersonatorId: null } } });
    assert.match(nested, /^invalid user\.deactivated payload: actor\.personId: /);
    assert.match(rejection({ ...event, data: undefined }), /^invalid user\.deactivated payload: \(root\): /);
  });

  it('rejects an unknown type, naming it', () => {
    assert.equal(rejection({ ...wire(newEvent('user.deactivated')), type: 'user.teleported' }), 'unknown event type "user.teleported"');
  });

  it('rejects a bad traceparent, naming the attribute', () => {
    const message = rejection({ ...wire(newEvent('user.deactivated')), traceparent: '00-not-a-trace' });
    assert.match(message, /^invalid envelope: traceparent: /);
    const valid = { ...wire(newEvent('user.deactivated')), traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', tracestate: 'roster=1' };
    assert.equal(parseEvent(valid).traceparent, valid.traceparent);
  });

  it('rejects an event without tenantid, naming the attribute', () => {
    const { tenantid: _dropped, ...event } = wire(newEvent('user.deactivated'));
    assert.match(rejection(event), /^invalid envelope: tenantid: /);
  });

  it('rejects what is not an event at all', () => {
    assert.equal(rejection(null), 'event is not an object');
    assert.equal(rejection('user.deactivated'), 'event is not an object');
    assert.match(rejection({ ...wire(newEvent('user.deactivated')), dataversion: '1' }), /^invalid envelope: dataversion: /);
  });

  it('accepts a payload from a newer version with unknown fields, and strips them (forward compatibility)', () => {
    const event = wire(newEvent('user.deactivated'));
    const data = event['data'] as Record<string, unknown>;
    const newer = {
      ...event,
      dataversion: catalogue['user.deactivated'].version + 1,
      data: { ...data, futureField: 'from v2', actor: { ...(data['actor'] as object), sessionId: 's-9' } },
    };
    const parsed = parseEvent(newer);
    assert.equal(parsed.type, 'user.deactivated');
    assert.equal(parsed.dataversion, catalogue['user.deactivated'].version + 1);
    assert.equal('futureField' in parsed.data, false, 'unknown payload field is stripped');
    assert.equal('sessionId' in (parsed.data as { actor: object }).actor, false, 'unknown nested field is stripped');
    assert.deepEqual(parsed.data, data);
  });
});

// ---------------------------------------------------------------------------------------------

describe('permissions and built-in roles', () => {
  it('has the built-in role keys of P2', () => {
    assert.deepEqual(
      [...BUILT_IN_ROLE_KEYS].sort(),
      ['admin', 'client', 'manager', 'owner', 'salesperson', 'staff', 'standard', 'supervisor'],
    );
    for (const key of BUILT_IN_ROLE_KEYS) assert.equal(BUILT_IN_ROLES[key].key, key);
  });

  it('gives owner and admin every permission', () => {
    for (const key of ['owner', 'admin'] as const) {
      assert.deepEqual([...BUILT_IN_ROLES[key].permissions].sort(), [...ALL_PERMISSIONS].sort(), key);
      assert.equal(BUILT_IN_ROLES[key].scope, 'account');
    }
  });

  it('keeps standard users from editing action plans, deleting contacts and changing settings', () => {
    const standard: readonly string[] = BUILT_IN_ROLES.standard.permissions;
    for (const p of ['action_plans.edit', 'contacts.delete', 'settings.manage']) assert.ok(!standard.includes(p), `standard has ${p}`);
    assert.ok(standard.includes('people.read') && standard.includes('visits.manage'));
  });

  it('scopes salespeople to their assigned clients and supervisors to their own areas', () => {
    assert.equal(BUILT_IN_ROLES.salesperson.scope, 'assigned_clients');
    assert.equal(BUILT_IN_ROLES.supervisor.scope, 'own_areas');
    assert.ok((BUILT_IN_ROLES.supervisor.permissions as readonly string[]).includes('logins.grant'));
    assert.equal(BUILT_IN_ROLES.staff.scope, 'self');
    assert.equal(BUILT_IN_ROLES.client.scope, 'self');
  });

  it('ranks roles strictly: owner > admin > manager > standard > supervisor > salesperson > staff > client', () => {
    const order = ['owner', 'admin', 'manager', 'standard', 'supervisor', 'salesperson', 'staff', 'client'] as const;
    for (let i = 1; i < order.length; i++) {
      const higher = BUILT_IN_ROLES[order[i - 1]!];
      const lower = BUILT_IN_ROLES[order[i]!];
      assert.ok(higher.rank > lower.rank, `${higher.key} (${higher.rank}) must outrank ${lower.key} (${lower.rank})`);
    }
  });

  it('ranks a role above every role whose permissions it strictly includes (custom roles take ranks from this)', () => {
    for (const a of BUILT_IN_ROLE_KEYS) {
      for (const b of BUILT_IN_ROLE_KEYS) {
        const pa = new Set<string>(BUILT_IN_ROLES[a].permissions);
        const pb: readonly string[] = BUILT_IN_ROLES[b].permissions;
        const strictlyIncludes = pb.every((p) => pa.has(p)) && pa.size > pb.length;
        if (strictlyIncludes) assert.ok(BUILT_IN_ROLES[a].rank > BUILT_IN_ROLES[b].rank, `${a} includes ${b} but does not outrank it`);
      }
    }
  });

  it('uses only permissions of the catalogue', () => {
    for (const key of BUILT_IN_ROLE_KEYS) {
      for (const p of BUILT_IN_ROLES[key].permissions) assert.ok(isPermission(p), `${key} has unknown permission ${p}`);
    }
    assert.deepEqual(ALL_PERMISSIONS, Object.keys(PERMISSIONS));
    assert.equal(isPermission('hasOwnProperty'), false);
  });
});

// ---------------------------------------------------------------------------------------------
// Compatibility guard: the payload schemas as last recorded in catalogue.snapshot.json.

type Schema = Record<string, unknown>;
interface SnapshotEntry {
  version: number;
  payload: Schema;
}
type Snapshot = Record<string, SnapshotEntry>;

const SNAPSHOT_PATH = fileURLToPath(new URL('./catalogue.snapshot.json', import.meta.url));
const UPDATE_HINT = 'UPDATE_SNAPSHOT=1 npm test -- catalogue';

const typeOfValue = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'number' ? (Number.isInteger(v) ? 'integer' : 'number') : typeof v;

/** The JSON types a schema admits (`any` when it does not say). */
function typesOf(s: Schema): string[] {
  const out = new Set<string>();
  if (typeof s['type'] === 'string') out.add(s['type']);
  if (Array.isArray(s['type'])) for (const t of s['type']) out.add(String(t));
  for (const key of ['anyOf', 'oneOf'] as const) {
    if (Array.isArray(s[key])) for (const branch of s[key] as Schema[]) for (const t of typesOf(branch)) out.add(t);
  }
  if (out.size === 0 && 'const' in s) out.add(typeOfValue(s['const']));
  if (out.size === 0 && Array.isArray(s['enum'])) for (const v of s['enum']) out.add(typeOfValue(v));
  return out.size === 0 ? ['any'] : [...out].sort();
}

/** The schema without its `null` alternative: what a nullable field holds when it holds something. */
function nonNull(s: Schema): Schema {
  const branches = (s['anyOf'] ?? s['oneOf']) as Schema[] | undefined;
  if (!Array.isArray(branches)) return s;
  const rest = branches.filter((b) => !(b['type'] === 'null'));
  return rest.length === 1 ? rest[0]! : s;
}

const UPPER_BOUNDS = ['maxLength', 'maximum', 'exclusiveMaximum', 'maxItems', 'maxProperties'] as const;
const LOWER_BOUNDS = ['minLength', 'minimum', 'exclusiveMinimum', 'minItems', 'minProperties'] as const;
const EXACT = ['pattern', 'format', 'const'] as const;

/**
 * Why `next` is not a compatible evolution of `prev` (catalogue.ts): a property removed, a
 * property's type changed (nullability included), a new required property (even a nullable one:
 * events written before the change lack it), a property that became required or stopped being
 * required, or a tightened constraint. Empty when compatible: what is left is additive (new
 * optional properties) or loosening.
 */
function incompatibilities(prev: Schema, next: Schema, path = ''): string[] {
  const at = path === '' ? '(root)' : path;
  const problems: string[] = [];
  const prevTypes = typesOf(prev);
  const nextTypes = typesOf(next);
  if (prevTypes.join('|') !== nextTypes.join('|')) {
    return [`${at}: type changed from ${prevTypes.join(' | ')} to ${nextTypes.join(' | ')}`];
  }
  const a = nonNull(prev);
  const b = nonNull(next);

  for (const key of UPPER_BOUNDS) {
    const [x, y] = [a[key] as number | undefined, b[key] as number | undefined];
    if (y !== undefined && (x === undefined || y < x)) problems.push(`${at}: ${key} tightened from ${x ?? 'none'} to ${y}`);
  }
  for (const key of LOWER_BOUNDS) {
    const [x, y] = [a[key] as number | undefined, b[key] as number | undefined];
    if (y !== undefined && (x === undefined || y > x)) problems.push(`${at}: ${key} tightened from ${x ?? 'none'} to ${y}`);
  }
  for (const key of EXACT) {
    if (key in b && JSON.stringify(a[key]) !== JSON.stringify(b[key])) {
      problems.push(`${at}: ${key} ${key in a ? 'changed' : 'added'} (${JSON.stringify(b[key])})`);
    }
  }
  if (Array.isArray(b['enum'])) {
    const allowed = new Set((b['enum'] as unknown[]).map((v) => JSON.stringify(v)));
    const prevValues = Array.isArray(a['enum']) ? (a['enum'] as unknown[]) : undefined;
    if (prevValues === undefined) problems.push(`${at}: enum added`);
    else for (const v of prevValues) if (!allowed.has(JSON.stringify(v))) problems.push(`${at}: enum value ${JSON.stringify(v)} removed`);
  }
  if (b['additionalProperties'] === false && a['additionalProperties'] !== false) {
    problems.push(`${at}: additional properties no longer allowed`);
  }

  const prevProps = (a['properties'] ?? {}) as Record<string, Schema>;
  const nextProps = (b['properties'] ?? {}) as Record<string, Schema>;
  const prevRequired = new Set((a['required'] ?? []) as string[]);
  const nextRequired = new Set((b['required'] ?? []) as string[]);
  const child = (name: string) => (path === '' ? name : `${path}.${name}`);
  for (const [name, schema] of Object.entries(prevProps)) {
    if (!(name in nextProps)) {
      problems.push(`${child(name)}: property removed`);
      continue;
    }
    if (prevRequired.has(name) && !nextRequired.has(name)) problems.push(`${child(name)}: no longer required`);
    if (!prevRequired.has(name) && nextRequired.has(name)) problems.push(`${child(name)}: became required`);
    problems.push(...incompatibilities(schema, nextProps[name]!, child(name)));
  }
  for (const name of Object.keys(nextProps)) {
    if (!(name in prevProps) && nextRequired.has(name)) problems.push(`${child(name)}: new required property`);
  }
  for (const key of ['items', 'additionalProperties', 'propertyNames'] as const) {
    const [x, y] = [a[key], b[key]];
    if (typeof x === 'object' && x !== null && typeof y === 'object' && y !== null) {
      problems.push(...incompatibilities(x as Schema, y as Schema, `${path}${key === 'items' ? '[]' : `{${key}}`}`));
    } else if (typeof x === 'object' && x !== null && y === undefined && key !== 'propertyNames') {
      // Dropping the schema of items/values loosens it: compatible.
    } else if ((x === undefined || x === true) && typeof y === 'object' && y !== null) {
      problems.push(`${at}: ${key} constrained`);
    }
  }
  return problems;
}

const currentSnapshot = (): Snapshot =>
  Object.fromEntries(EVENT_TYPES.map((t) => [t, { version: catalogue[t].version, payload: jsonSchemaOf(catalogue[t].payload) }]));

const readSnapshot = (): Snapshot | null => (existsSync(SNAPSHOT_PATH) ? (JSON.parse(readFileSync(SNAPSHOT_PATH, 'utf8')) as Snapshot) : null);

describe('compatibility guard (catalogue.snapshot.json)', () => {
  describe('incompatibilities()', () => {
    const base = z.object({
      id: z.string().min(1).max(64),
      count: z.number().int().nonnegative(),
      note: z.string().max(100).nullable(),
      kind: z.enum(['client', 'staff']),
      tags: z.array(z.string().max(10)),
      actor: z.object({ kind: z.enum(['person', 'system']), personId: z.string().nullable() }),
      hint: z.string().optional(),
    });
    const diff = (next: z.ZodType) => incompatibilities(jsonSchemaOf(base), jsonSchemaOf(next));

    it('finds nothing between a schema and itself', () => {
      assert.deepEqual(diff(base), []);
    });

    it('accepts new optional properties, at any depth, and loosened constraints', () => {
      assert.deepEqual(diff(base.extend({ extra: z.string().optional() })), []);
      assert.deepEqual(diff(base.extend({ extra: z.string().nullable().optional() })), []);
      assert.deepEqual(diff(base.extend({ actor: base.shape.actor.extend({ sessionId: z.string().optional() }) })), []);
      assert.deepEqual(diff(base.extend({ id: z.string().min(1).max(128) })), []);
      assert.deepEqual(diff(base.extend({ kind: z.enum(['client', 'staff', 'manager']) })), []);
    });

    it('flags a removed property', () => {
      assert.deepEqual(diff(base.omit({ note: true })), ['note: property removed']);
      assert.deepEqual(diff(base.omit({ hint: true })), ['hint: property removed']);
    });

    it("flags a property's changed type, nullability included", () => {
      assert.deepEqual(diff(base.extend({ count: z.string() })), ['count: type changed from integer to string']);
      assert.deepEqual(diff(base.extend({ note: z.string().max(100) })), ['note: type changed from null | string to string']);
      assert.deepEqual(diff(base.extend({ id: z.string().min(1).max(64).nullable() })), ['id: type changed from string to null | string']);
      assert.deepEqual(diff(base.extend({ actor: base.shape.actor.extend({ personId: z.number().nullable() }) })), [
        'actor.personId: type changed from null | string to null | number',
      ]);
    });

    it('flags a new required property, even a nullable one', () => {
      assert.deepEqual(diff(base.extend({ extra: z.string() })), ['extra: new required property']);
      assert.deepEqual(diff(base.extend({ extra: z.string().nullable() })), ['extra: new required property']);
      assert.deepEqual(diff(base.extend({ hint: z.string() })), ['hint: became required']);
      assert.deepEqual(diff(base.extend({ count: z.number().int().nonnegative().optional() })), ['count: no longer required']);
    });

    it('flags a tightened constraint', () => {
      assert.deepEqual(diff(base.extend({ id: z.string().min(1).max(32) })), ['id: maxLength tightened from 64 to 32']);
      assert.deepEqual(diff(base.extend({ kind: z.enum(['client']) })), ['kind: enum value "staff" removed']);
      assert.deepEqual(diff(base.extend({ tags: z.array(z.string().max(5)) })), ['tags[]: maxLength tightened from 10 to 5']);
      assert.deepEqual(diff(base.extend({ note: z.string().max(50).nullable() })), ['note: maxLength tightened from 100 to 50']);
    });
  });

  it('no payload changed incompatibly since the snapshot', () => {
    const snapshot = readSnapshot();
    if (snapshot === null) return; // the next test says how to create it
    const current = currentSnapshot();
    const problems: string[] = [];
    for (const [type, now] of Object.entries(current)) {
      const before = snapshot[type];
      if (before === undefined) continue;
      if (now.version < before.version) {
        problems.push(`${type}: version went back from ${before.version} to ${now.version}`);
        continue;
      }
      const found = incompatibilities(before.payload, now.payload);
      if (found.length === 0) continue;
      const what =
        now.version === before.version
          ? `v${now.version} changed incompatibly without a version bump`
          : `v${before.version} → v${now.version} is not a compatible evolution (a new version may only add optional fields)`;
      problems.push(`${type}: ${what}:\n    ${found.join('\n    ')}`);
    }
    assert.ok(
      problems.length === 0,
      [
        'Incompatible payload change (see the evolution rule in packages/contracts/src/catalogue.ts):',
        ...problems.map((p) => `  - ${p}`),
        'Undo it, or publish the new shape as a new event type next to the old one.',
        'Updating the snapshot does not make such a change safe for subscribers.',
      ].join('\n'),
    );
  });

  it('the snapshot records every type with its current version and payload schema', () => {
    const snapshot = readSnapshot();
    const current = currentSnapshot();
    const stale: string[] = [];
    if (snapshot === null) stale.push('catalogue.snapshot.json does not exist');
    else {
      for (const type of Object.keys(snapshot)) {
        if (!(type in current)) stale.push(`${type} is no longer in the catalogue (retire a type only once every subscriber has moved)`);
      }
      for (const [type, now] of Object.entries(current)) {
        const before = snapshot[type];
        if (before === undefined) stale.push(`${type} v${now.version} is new`);
        else if (before.version !== now.version) stale.push(`${type}: v${before.version} → v${now.version}`);
        else if (JSON.stringify(before.payload) !== JSON.stringify(now.payload)) {
          const compatible = incompatibilities(before.payload, now.payload).length === 0;
          stale.push(`${type}: v${now.version} payload changed ${compatible ? 'compatibly' : 'INCOMPATIBLY (see the test above)'}`);
        }
      }
    }
    if (stale.length === 0) return;
    if (process.env['UPDATE_SNAPSHOT'] === '1') {
      const incompatible = Object.entries(current).some(([type, now]) => {
        const before = snapshot?.[type];
        return before !== undefined && (now.version < before.version || incompatibilities(before.payload, now.payload).length > 0);
      });
      assert.ok(!incompatible, 'refusing to record an incompatible payload change in catalogue.snapshot.json (see the test above)');
      writeFileSync(SNAPSHOT_PATH, `${JSON.stringify(current, null, 2)}\n`);
      console.log(`updated ${SNAPSHOT_PATH}:\n${stale.map((s) => `  - ${s}`).join('\n')}`);
      return;
    }
    assert.fail(
      [
        'catalogue.snapshot.json is out of date:',
        ...stale.map((s) => `  - ${s}`),
        `If these changes are intended (additive, optional), record them with: ${UPDATE_HINT}`,
      ].join('\n'),
    );
  });
});
