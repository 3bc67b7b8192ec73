#!/usr/bin/env node
// `npm run keys`: a fresh key set for one Roster installation — identity's token signing keys,
// the public JWKS every service verifies with, notifications' sealing key pair — printed as
// shell-quoted env lines to put in the cluster's secret store or to source (README "Keys").
//
// `npm run keys -- --dev` rewrites the DEVELOPMENT key set committed for docker-compose
// (deploy/dev-keys/*.env) and the k8s dev overlays (k8s/components/dev-secrets): public in the
// repository, so never fit for production.
import { readFileSync, writeFileSync } from 'node:fs';
import { generateKeyEnv } from '@roster/platform/auth/dev-keys';

const keys = generateKeyEnv();
const files = {
  // Every service: verify tokens, seal secrets to notifications.
  'public.env': { JWT_PUBLIC_KEYS: keys.JWT_PUBLIC_KEYS, SEALING_PUBLIC_KEY: keys.SEALING_PUBLIC_KEY },
  'identity.env': { JWT_SIGNING_KEYS: keys.IDENTITY_JWT_SIGNING_KEYS, OIDC_SIGNING_KEYS: keys.IDENTITY_OIDC_SIGNING_KEYS },
  'notifications.env': { SEALING_PRIVATE_KEYS: keys.NOTIFICATIONS_SEALING_PRIVATE_KEYS },
};
const lines = (vars) => Object.entries(vars).map(([k, v]) => `${k}=${v}`).join('\n');
// Printed for a shell (`set -a; . ./roster-keys.env; set +a`) and a secret store alike: the JSON
// single-quoted (it holds no single quote), so that a shell does not strip its double quotes.
const shellLines = (vars) => Object.entries(vars).map(([k, v]) => `${k}='${v}'`).join('\n');

if (!process.argv.includes('--dev')) {
  for (const [file, vars] of Object.entries(files)) console.log(`# ${file.replace('.env', '')}\n${shellLines(vars)}\n`);
  process.exit(0);
}

const warning = '# DEVELOPMENT KEYS, published in the repository: never use them in production (npm run keys).';
for (const [file, vars] of Object.entries(files)) writeFileSync(`deploy/dev-keys/${file}`, `${warning}\n${lines(vars)}\n`);

// The k8s dev component: the same values as Secret literals, between the markers.
const kustomization = 'k8s/components/dev-secrets/kustomization.yaml';
const text = readFileSync(kustomization, 'utf8');
const block = (name, vars) => `  - name: ${name}\n    literals:\n${Object.entries(vars).map(([k, v]) => `      - '${k}=${v}'`).join('\n')}\n`;
const generated = `  # >>> dev keys (npm run keys -- --dev)\n${block('roster-keys', files['public.env'])}${block('roster-identity-keys', files['identity.env'])}${block('roster-notifications-keys', files['notifications.env'])}  # <<< dev keys\n`;
const marked = / {2}# >>> dev keys[\s\S]*? {2}# <<< dev keys\n/;
if (!marked.test(text)) throw new Error(`${kustomization}: the "# >>> dev keys" … "# <<< dev keys" markers are missing`);
writeFileSync(kustomization, text.replace(marked, generated));
console.log('wrote deploy/dev-keys/*.env and the dev keys in', kustomization);
