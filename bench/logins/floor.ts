import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { parseSigningKeys } from '@roster/platform/auth/keys';
import { TokenSigner } from '@roster/platform/auth/signer';
import { openDatabase, type SqlTx } from '@roster/platform/db/database';
import { makeClient } from '../../services/identity/src/db/client.js';
import { insertSession, lookupLogin } from '../../services/identity/src/sessions/queries.js';
import { newRefreshToken, REFRESH_TOKEN_TTL_MS } from '../../services/identity/src/sessions/tokens.js';
import { passwordMatches } from '../../services/identity/src/passwords/hashing.js';

/**
 * A minimal login server: the least any implementation of `POST /sessions` must do on this machine.
 * A bare node:http server (no framework, no ORM; the process's tracing hooks see it as they see
 * identity) that parses the JSON body, runs identity's two statements (prepared: the lookup, then the
 * session and refresh-token insert), verifies the password against the stored argon2id hash (the
 * same parameters and thread pool as identity), signs an ES256 access token and answers JSON. Its
 * logins/bare ratio, in the same rounds as identity's, is the most any code could reach here.
 * `via: 'prisma'` sends the two statements through identity's Prisma client (as the service does,
 * prepared too) instead of plain pg: what the ORM alone costs.
 */
export async function startMinimalLoginServer(databaseUrl: string, signingKeys: string, via: 'pg' | 'prisma'): Promise<{ url: string; stop(): Promise<void> }> {
  const { db, close } = via === 'pg' ? plainPg(databaseUrl) : await identityPrisma(databaseUrl);
  const signer = new TokenSigner(parseSigningKeys(signingKeys), 'roster');
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const { username, password } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { username: string; password: string };
        const { login } = await lookupLogin(db, username, [`u:${username}`, `ip:${req.socket.remoteAddress}`]);
        if (!login || !(await passwordMatches(login.password_hash, password))) return void res.writeHead(401).end();
        const refresh = newRefreshToken();
        const createdAt = new Date();
        const sessionId = randomUUID();
        await insertSession(db, {
          sessionId, tenantId: login.tenant_id, personId: login.person_id, passwordChangeRequired: false, createdAt,
          expiresAt: new Date(createdAt.getTime() + REFRESH_TOKEN_TTL_MS), refreshTokenHash: refresh.hash,
        });
        const signed = signer.sign({
          personId: login.person_id, tenantId: login.tenant_id, kind: 'staff', roles: login.memberships.map((m) => m.roleKey),
          permissions: [], sessionId, passwordChangeRequired: false, impersonatorId: null, ttlSeconds: 900,
        });
        res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ accessToken: signed.token, refreshToken: refresh.token, expiresIn: signed.expiresIn }));
      })().catch((error: unknown) => res.writeHead(500).end(String(error)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await close();
    },
  };
}

function plainPg(databaseUrl: string): { db: SqlTx; close(): Promise<void> } {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
  const named = new Map<string, string>();
  const nameOf = (text: string) => named.get(text) ?? named.set(text, `floor_${named.size}`).get(text)!;
  return {
    db: {
      $queryRawUnsafe: async <T>(text: string, ...values: unknown[]) => (await pool.query({ name: nameOf(text), text, values })).rows as T,
      $executeRawUnsafe: async (text: string, ...values: unknown[]) => (await pool.query({ name: nameOf(text), text, values })).rowCount ?? 0,
    },
    close: () => pool.end(),
  };
}

async function identityPrisma(databaseUrl: string): Promise<{ db: SqlTx; close(): Promise<void> }> {
  const database = await openDatabase({ url: databaseUrl, migrationFolders: '', migrate: false, poolSize: 10 }, makeClient);
  return { db: database.client, close: () => database.close() };
}
