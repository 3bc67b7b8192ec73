import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { MemoryBus } from '@roster/platform/bus/memory';
import { parseSealingPublicKey, seal } from '@roster/platform/crypto/sealing';
import { createLogger } from '@roster/platform/logging';
import { startService, type RunningService } from '@roster/platform/service';
import type { NotificationsDb } from '../src/db/client.js';
import { notificationsService } from '../src/service.js';
import { createTestDatabase, type TestDatabase } from '../../../packages/platform/test/support/postgres.js';
import { testTokens } from '../../../packages/platform/test/support/tokens.js';
import { waitFor } from '../../../packages/platform/test/support/wait.js';
import { parseMail } from './support/smtp.js';
import { event, SYSTEM, userCreated } from './support/system.js';

// The embedded default (N1): with neither SMTP_URL nor SMS_PROVIDER_URL, messages are files a
// newcomer can read under <ROSTER_DATA_DIR>/outbox-mail/; the log line says where, without the secret.
describe('embedded default: messages as files under the data folder (N1, rule 5; Postgres)', () => {
  let database: TestDatabase;
  let service: RunningService<NotificationsDb>;
  let dataDir: string;
  const logLines: string[] = [];
  const bus = new MemoryBus();
  const tokens = testTokens();
  const tenantId = randomUUID();

  beforeAll(async () => {
    database = await createTestDatabase('roster_notifications');
    dataDir = mkdtempSync(join(tmpdir(), 'roster-outbox-'));
    const destination = new Writable({ write(chunk, _enc, done) { logLines.push(String(chunk)); done(); } });
    service = await startService(notificationsService, {
      bus, logger: createLogger('notifications', { level: 'debug', destination }),
      env: { PORT: '0', DATABASE_URL: database.url, DB_MIGRATE: 'true', ROSTER_DATA_DIR: dataDir, ...tokens.env },
    });
  });
  afterAll(async () => {
    await service?.stop();
    await new Promise((r) => setTimeout(r, 200));
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('writes the credentials e-mail (with its password: it is the delivered message) and an SMS invitation as files; no log line holds either secret', async () => {
    const person = userCreated(tenantId, { firstName: 'Newt', email: 'newt@example.com' });
    await bus.publish([person]);
    await waitFor('projection', () => service.ctx.prisma.personProjection.findUnique({ where: { id: person.data.personId } }));
    const key = parseSealingPublicKey(tokens.env.SEALING_PUBLIC_KEY);
    await bus.publish([event('login.granted', tenantId, person.data.personId, {
      personId: person.data.personId, username: 'newt', temporary: true, expiresAt: null,
      delivery: { channel: 'email', template: 'staff_login_credentials', to: 'newt@example.com' }, secret: seal(key, 'Embedded-Secret-42'), actor: SYSTEM,
    })]);
    const invitationId = randomUUID();
    await bus.publish([event('invitation.created', tenantId, invitationId, {
      invitationId, accountId: randomUUID(), roleKey: 'staff', channel: 'sms', token: seal(key, 'invite-token-xyz'),
      invitee: { firstName: 'Ian', lastName: 'Vite', email: null, phone: '+44 20 7946 0958' }, expiresAt: '2026-12-10T00:00:00.000Z', resend: false, actor: SYSTEM,
    })]);

    const folder = join(dataDir, 'outbox-mail');
    const files = await waitFor('two files', () => {
      try {
        const names = readdirSync(folder);
        return names.length >= 2 ? names : null;
      } catch {
        return null;
      }
    });
    const eml = files.find((f) => f.endsWith('.eml'))!;
    const mail = await parseMail(readFileSync(join(folder, eml), 'utf8'));
    assert.equal(mail.subject, 'Your staff login');
    assert.match(mail.headers.to ?? '', /newt@example\.com/);
    assert.match(mail.text, /Password: Embedded-Secret-42/);
    const sms = readFileSync(join(folder, files.find((f) => f.endsWith('.sms.txt'))!), 'utf8');
    assert.match(sms, /To: \+442079460958/);
    assert.match(sms, /http:\/\/localhost:4001\/invitations\/invite-token-xyz\/accept/);

    await waitFor('the log lines', () => logLines.filter((l) => l.includes('written to the mail outbox folder')).length >= 2);
    const logged = logLines.join('');
    assert.match(logged, new RegExp(eml.replace(/[.]/g, '\\.')), 'the log says which file');
    assert.doesNotMatch(logged, /Embedded-Secret-42/);
    assert.doesNotMatch(logged, /invite-token-xyz/);
  });
});
