// The development key set (docker-compose and the k8s dev overlays) must be usable as is: a
// service given it starts, identity's tokens verify with the public JWKS, and what is sealed to
// the public sealing key opens with notifications' private one (rule 5, rule 7).
import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { parsePublicKeys, parseSigningKeys } from '@roster/platform/auth/keys';
import { TokenSigner } from '@roster/platform/auth/signer';
import { staticKeys, TokenVerifier } from '@roster/platform/auth/verifier';
import { NotBeforeList } from '@roster/platform/auth/not-before';
import { open, parseSealingPrivateKeys, parseSealingPublicKey, seal } from '@roster/platform/crypto/sealing';
import { kustomize, read } from './support.js';

const envFile = (path: string): Record<string, string> =>
  Object.fromEntries(read(path).split('\n').filter((l) => l && !l.startsWith('#')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));

describe('development keys (compose and k8s dev overlays)', () => {
  const publicEnv = envFile('deploy/dev-keys/public.env');
  const identityEnv = envFile('deploy/dev-keys/identity.env');
  const notificationsEnv = envFile('deploy/dev-keys/notifications.env');

  it('sign and verify tokens, seal and open secrets', async () => {
    const signer = new TokenSigner(parseSigningKeys(identityEnv.JWT_SIGNING_KEYS!), 'roster');
    const verifier = new TokenVerifier({ issuer: 'roster', keys: staticKeys(parsePublicKeys(publicEnv.JWT_PUBLIC_KEYS!)), notBefore: new NotBeforeList() });
    const { token } = signer.sign({ personId: 'p', tenantId: 't', kind: 'staff', roles: [], permissions: [], sessionId: 's', ttlSeconds: 60 });
    assert.equal((await verifier.verify(token)).personId, 'p');
    const sealed = seal(parseSealingPublicKey(publicEnv.SEALING_PUBLIC_KEY!), 'secret');
    assert.equal(open(parseSealingPrivateKeys(notificationsEnv.SEALING_PRIVATE_KEYS!), sealed), 'secret');
  });

  it('are the same in the k8s dev overlay as in compose', () => {
    const secrets = kustomize('k8s/overlays/rabbitmq').filter((o) => o.kind === 'Secret');
    const value = (secret: string, key: string) => {
      const s = secrets.find((o) => o.metadata.name === secret) as { data?: Record<string, string> } | undefined;
      return s?.data?.[key] ? Buffer.from(s.data[key], 'base64').toString() : undefined;
    };
    assert.equal(value('roster-keys', 'JWT_PUBLIC_KEYS'), publicEnv.JWT_PUBLIC_KEYS);
    assert.equal(value('roster-keys', 'SEALING_PUBLIC_KEY'), publicEnv.SEALING_PUBLIC_KEY);
    assert.equal(value('roster-identity-keys', 'JWT_SIGNING_KEYS'), identityEnv.JWT_SIGNING_KEYS);
    assert.equal(value('roster-notifications-keys', 'SEALING_PRIVATE_KEYS'), notificationsEnv.SEALING_PRIVATE_KEYS);
  });
});
