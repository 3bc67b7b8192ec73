import { isIP } from 'node:net';
import { z } from 'zod';
import type { ServiceName } from '@roster/contracts';

const bool = z.enum(['true', 'false', 'auto']);

/**
 * Which proxies in front of a service may tell the client's address (`X-Forwarded-For`), in
 * Express's `trust proxy` terms: none (`false`), the nearest N hops, or the listed addresses,
 * CIDRs and names. Throttling per address (L8) relies on it behind an ingress.
 */
export type TrustProxy = false | number | string[];

const PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/** `a.b.c.d`, `a.b.c.d/n`, `x::y`, `x::y/n` or one of Express's names; undefined when valid. */
function proxyEntryProblem(entry: string): string | undefined {
  if (PROXY_NAMES.includes(entry)) return undefined;
  const [address = '', prefix, extra] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return `"${entry}" is neither an address, a CIDR nor one of ${PROXY_NAMES.join(', ')}`;
  if (prefix === undefined) return undefined;
  const bits = family === 4 ? 32 : 128;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= bits ? undefined : `"${entry}": the prefix length must be 0 to ${bits}`;
}

const trustProxy = z.string().transform((value, ctx): TrustProxy => {
  const v = value.trim();
  if (v === 'false') return false;
  // Trusting every address would let any client name its own address and dodge the per-address limit.
  if (v === 'true') {
    ctx.addIssue({ code: 'custom', message: '"true" would trust any client\'s X-Forwarded-For: give the number of proxies (hops) or their addresses' });
    return z.NEVER;
  }
  if (/^\d+$/.test(v)) return Number(v);
  const entries = splitList(v);
  const problems = entries.map(proxyEntryProblem).filter((p) => p !== undefined);
  if (entries.length === 0 || problems.length > 0) {
    ctx.addIssue({ code: 'custom', message: `false, a number of hops, or addresses / CIDRs / ${PROXY_NAMES.join(' / ')}, comma-separated${problems.length ? `: ${problems.join('; ')}` : ''}` });
    return z.NEVER;
  }
  return entries;
});

/** Every environment variable a service reads (README "Configuration" lists the same). */
const schema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).optional(),
  DATABASE_URL: z.string().min(1).optional(),
  BUS_URL: z.string().min(1).default('memory:'),
  BUS_NAMESPACE: z.string().regex(/^[a-z0-9-]+$/).default('roster'),
  ROSTER_OPERATOR_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  ROSTER_DATA_DIR: z.string().default('.data'),
  DB_MIGRATE: bool.default('auto'),
  DB_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  DB_ACQUIRE_TIMEOUT_MS: z.coerce.number().int().min(100).default(5_000),
  DB_PREPARED_STATEMENTS: z.enum(['true', 'false']).default('true'),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  BATCH_LINGER_MS: z.coerce.number().int().min(0).max(1_000).default(10),
  CURSOR_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
  JWT_SIGNING_KEYS: z.string().min(1).optional(),
  OIDC_SIGNING_KEYS: z.string().min(1).optional(),
  OIDC_BACKCHANNEL_PRIVATE: bool.default('auto'),
  JWT_PUBLIC_KEYS: z.string().min(1).optional(),
  JWT_JWKS_URL: z.url().optional(),
  JWT_ISSUER: z.string().min(1).default('roster'),
  SEALING_PUBLIC_KEY: z.string().min(1).optional(),
  SEALING_PRIVATE_KEYS: z.string().min(1).optional(),
  SMTP_URL: z.string().regex(/^smtps?:\/\/[^,\s]+(,\s*smtps?:\/\/[^,\s]+)*$/, 'smtp://host:port or smtps://…, comma-separated in failover order').optional(),
  SMS_PROVIDER_URL: z.string().regex(/^https?:\/\/[^,\s]+(,\s*https?:\/\/[^,\s]+)*$/, 'https://user:token@host/messages, comma-separated in failover order').optional(),
  SMS_CALLBACK_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  MAIL_FROM: z.string().min(3).default('Roster <no-reply@roster.local>'),
  PUBLIC_URL: z.url().default('http://localhost:4001'),
  SCHEDULING_PUBLIC_URL: z.url().default('http://localhost:4003'),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(30).max(86_400).default(600),
  TEMPORARY_PASSWORD_TTL_HOURS: z.coerce.number().min(0.01).max(24 * 90).default(72),
  SESSION_RETENTION_DAYS: z.coerce.number().min(1).max(3650).optional(),
  INVITATION_LINK_WAIT_MS: z.coerce.number().int().min(0).max(30_000).default(3_000),
  TRUST_PROXY: trustProxy.optional(),
});

export interface ServiceConfig {
  service: ServiceName;
  port: number;
  databaseUrl: string;
  busUrl: string;
  busNamespace: string;
  operatorKey: string | undefined;
  dataDir: string;
  migrateOnStart: boolean;
  dbPoolSize: number;
  dbAcquireTimeoutMs: number;
  /**
   * Postgres: statements are prepared once per connection (default). Off behind a pooler that
   * hands one client's statements to several server connections (PgBouncer in transaction mode
   * before 1.21, or without max_prepared_statements).
   */
  dbPreparedStatements: boolean;
  shutdownTimeoutMs: number;
  /**
   * While a consumer, the outbox relay or the revocation feed's not-before writes are busy, how long
   * they wait for more work before the next transaction (issue 19, BusyLinger): larger batches,
   * fewer commits; an idle one starts at once.
   */
  batchLingerMs: number;
  /** The key list cursors are signed with (issue 15); default: derived from the database URL. */
  cursorSecret: string;
  logLevel: string | undefined;
  /** Identity only: private JWKS (inline or a file path); the first key signs (rule 7). */
  jwtSigningKeys: string | undefined;
  /** Public JWKS every service verifies access tokens with (inline or a file path). */
  jwtPublicKeys: string | undefined;
  /** Or identity's jwks.json, fetched and cached. */
  jwtJwksUrl: string | undefined;
  jwtIssuer: string;
  /** Notifications' public sealing key: producers seal secrets to it (rule 5). */
  sealingPublicKey: string | undefined;
  /** Notifications only: private sealing JWKS. */
  sealingPrivateKeys: string | undefined;
  /** Notifications: SMTP servers in failover order (B6); none = files under the data folder. */
  smtpUrls: string[];
  /** Notifications: HTTP SMS providers' messages endpoints in failover order (B6). */
  smsProviderUrls: string[];
  /** Notifications: HMAC-SHA256 key of SMS provider status callbacks. */
  smsCallbackSecret: string | undefined;
  /** Notifications: sender of e-mails. */
  mailFrom: string;
  /** Identity only: JWKS of private RSA keys (RS256) for ID tokens and logout tokens, beside the ES256 token keys (issue 17). */
  oidcSigningKeys: string | undefined;
  /**
   * Identity only: may back-channel logout tokens go to loopback and private addresses? Off by
   * default in production (a tenant's admin could otherwise aim identity at internal services);
   * on in the embedded mode, where every application is on this machine.
   */
  oidcBackchannelPrivate: boolean;
  /** Base of links in messages (invitation acceptance, login). */
  publicUrl: string;
  /** Notifications: scheduling's public address, base of links to client requests in monitors' e-mails (S3). */
  schedulingPublicUrl: string;
  /** Identity only: lifetime of access tokens (rule 7). */
  accessTokenTtlSeconds: number;
  /** Identity only: a temporary password not used within this time stops working (L3). */
  temporaryPasswordTtlHours: number;
  /** Identity only: how long ended sessions are kept before deletion; unset = identity's default (7 days). */
  sessionRetentionDays: number | undefined;
  /** Identity only: how long an invitation link not known yet waits for its invitation.created before it is called unknown (P8). */
  invitationLinkWaitMs: number;
  /** Proxies whose X-Forwarded-For gives the client's address (req.ip); none by default. */
  trustProxy: TrustProxy;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Reads a service's configuration from the environment. Per-service variables may be prefixed
 * with the service name (`DIRECTORY_DATABASE_URL`, `IDENTITY_PORT`) so one environment can hold
 * all four in the embedded mode; the plain name wins in a one-service process.
 */
export function loadConfig(service: ServiceName, env: NodeJS.ProcessEnv, defaultPort: number): ServiceConfig {
  const prefix = `${service.toUpperCase()}_`;
  const pick = (name: string) => env[name] ?? env[prefix + name];
  const raw = Object.fromEntries(Object.keys(schema.shape).map((k) => [k, pick(k)]).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new ConfigError(`invalid configuration for ${service}:\n${lines}`);
  }
  const c = parsed.data;
  const databaseUrl = c.DATABASE_URL ?? `pglite:${c.ROSTER_DATA_DIR}/${service}`;
  return {
    service,
    port: c.PORT ?? defaultPort,
    databaseUrl,
    busUrl: c.BUS_URL,
    busNamespace: c.BUS_NAMESPACE,
    operatorKey: c.ROSTER_OPERATOR_KEY,
    dataDir: c.ROSTER_DATA_DIR,
    migrateOnStart: c.DB_MIGRATE === 'auto' ? databaseUrl.startsWith('pglite:') : c.DB_MIGRATE === 'true',
    dbPoolSize: c.DB_POOL_SIZE,
    dbAcquireTimeoutMs: c.DB_ACQUIRE_TIMEOUT_MS,
    dbPreparedStatements: c.DB_PREPARED_STATEMENTS === 'true',
    shutdownTimeoutMs: c.SHUTDOWN_TIMEOUT_MS,
    batchLingerMs: c.BATCH_LINGER_MS,
    cursorSecret: c.CURSOR_SECRET ?? `${service}:${databaseUrl}`,
    logLevel: c.LOG_LEVEL,
    jwtSigningKeys: c.JWT_SIGNING_KEYS,
    jwtPublicKeys: c.JWT_PUBLIC_KEYS,
    oidcSigningKeys: c.OIDC_SIGNING_KEYS,
    oidcBackchannelPrivate: c.OIDC_BACKCHANNEL_PRIVATE === 'auto' ? databaseUrl.startsWith('pglite:') : c.OIDC_BACKCHANNEL_PRIVATE === 'true',
    jwtJwksUrl: c.JWT_JWKS_URL,
    jwtIssuer: c.JWT_ISSUER,
    sealingPublicKey: c.SEALING_PUBLIC_KEY,
    sealingPrivateKeys: c.SEALING_PRIVATE_KEYS,
    smtpUrls: splitList(c.SMTP_URL),
    smsProviderUrls: splitList(c.SMS_PROVIDER_URL),
    smsCallbackSecret: c.SMS_CALLBACK_SECRET,
    mailFrom: c.MAIL_FROM,
    publicUrl: c.PUBLIC_URL.replace(/\/+$/, ''),
    schedulingPublicUrl: c.SCHEDULING_PUBLIC_URL.replace(/\/+$/, ''),
    accessTokenTtlSeconds: c.ACCESS_TOKEN_TTL_SECONDS,
    temporaryPasswordTtlHours: c.TEMPORARY_PASSWORD_TTL_HOURS,
    sessionRetentionDays: c.SESSION_RETENTION_DAYS,
    invitationLinkWaitMs: c.INVITATION_LINK_WAIT_MS,
    trustProxy: c.TRUST_PROXY ?? false,
  };
}

function splitList(value: string | undefined): string[] {
  return (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}
