import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { IdentityDb } from '../db/client.js';
import { clientMetadataOf, type ClientRow } from './clients.js';

/**
 * oidc-provider's storage in identity's own Postgres database (issue 17), one row per model
 * instance in `oidc_model`. `Client` is special: clients are identity's own records
 * (`oauth_client`, registered per tenant through the API), read here as oidc-provider metadata.
 */
/** An id from the outside (a client_id, a uid in a URL) that Postgres can hold; anything else names nothing. */
const storable = (id: string): boolean => id.length > 0 && id.length <= 512 && !id.includes('\u0000') && !/[\ud800-\udfff]/.test(id);

export function postgresAdapter(db: IdentityDb) {
  return class PostgresAdapter implements Adapter {
    constructor(readonly kind: string) {}

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      const expiresAt = expiresIn ? new Date(Date.now() + expiresIn * 1000) : null;
      await db.$executeRawUnsafe(
        `INSERT INTO oidc_model (kind, id, payload, grant_id, uid, account_id, expires_at)
         VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7)
         ON CONFLICT (kind, id) DO UPDATE SET payload = EXCLUDED.payload, grant_id = EXCLUDED.grant_id, uid = EXCLUDED.uid,
           account_id = EXCLUDED.account_id, expires_at = EXCLUDED.expires_at`,
        this.kind, id, JSON.stringify(payload), payload.grantId ?? null, payload.uid ?? null, payload.accountId ?? null, expiresAt,
      );
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (!storable(id)) return undefined;
      if (this.kind === 'Client') return findClient(db, id);
      const [row] = await db.$queryRawUnsafe<{ payload: AdapterPayload; consumed_at: Date | null }[]>(
        `SELECT payload, consumed_at FROM oidc_model WHERE kind = $1 AND id = $2 AND (expires_at IS NULL OR expires_at > now())`, this.kind, id,
      );
      if (!row) return undefined;
      return row.consumed_at ? { ...row.payload, consumed: Math.floor(row.consumed_at.getTime() / 1000) } : row.payload;
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      if (!storable(uid)) return undefined;
      const [row] = await db.$queryRawUnsafe<{ id: string }[]>(`SELECT id FROM oidc_model WHERE kind = $1 AND uid = $2`, this.kind, uid);
      return row ? this.find(row.id) : undefined;
    }

    async findByUserCode(): Promise<AdapterPayload | undefined> {
      return undefined; // the device flow is not offered
    }

    async consume(id: string): Promise<void> {
      await db.$executeRawUnsafe(`UPDATE oidc_model SET consumed_at = now() WHERE kind = $1 AND id = $2`, this.kind, id);
    }

    async destroy(id: string): Promise<void> {
      await db.$executeRawUnsafe(`DELETE FROM oidc_model WHERE kind = $1 AND id = $2`, this.kind, id);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await db.$executeRawUnsafe(`DELETE FROM oidc_model WHERE grant_id = $1`, grantId);
    }
  };
}

async function findClient(db: IdentityDb, id: string): Promise<AdapterPayload | undefined> {
  const [row] = await db.$queryRawUnsafe<ClientRow[]>('SELECT * FROM oauth_client WHERE id = $1', id);
  return row ? (clientMetadataOf(row) as AdapterPayload) : undefined;
}
