// k8s/: every overlay renders with `kubectl kustomize`, every object is valid against the
// Kubernetes API schemas with no unknown field, and the manifests agree with the code: commands
// the build produces, variables the services read, the probes and ports they serve.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from '@jest/globals';
import type { ServiceName } from '@roster/contracts';
import { loadConfig } from '@roster/platform/config';
import { validateObject } from './kube-schema.js';
import { configVariables, entryPointProblem, isReadVariable, kustomize, read, ROOT, SERVICES, type K8sObject } from './support.js';

const OVERLAYS = ['rabbitmq', 'kafka', 'production'];
const rendered = new Map<string, K8sObject[]>();
const render = (overlay: string) => {
  if (!rendered.has(overlay)) rendered.set(overlay, kustomize(`k8s/overlays/${overlay}`));
  return rendered.get(overlay)!;
};
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- rendered manifests are plain YAML data
type Any = any;
const find = (objects: K8sObject[], kind: string, name: string): Any => {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  assert.ok(o, `${kind}/${name} is missing`);
  return o;
};
const podSpecs = (objects: K8sObject[]): { where: string; spec: Any }[] =>
  objects.flatMap((o: Any) => (o.kind === 'Deployment' || o.kind === 'Job' ? [{ where: `${o.kind}/${o.metadata.name}`, spec: o.spec.template.spec }] : []));

describe('k8s manifests', () => {
  it('k8s/base/<service>.yaml are what k8s/generate.mjs makes', () => {
    const r = spawnSync(process.execPath, ['k8s/generate.mjs', '--check'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    for (const service of SERVICES) assert.match(read('k8s/generate.mjs'), new RegExp(`name: '${service}'`), `k8s/generate.mjs has no entry for ${service}`);
  });

  for (const overlay of OVERLAYS) {
    it(`overlay ${overlay} renders, and every object validates against the Kubernetes schemas`, () => {
      const objects = render(overlay);
      assert.ok(objects.length > 0);
      assert.deepEqual(objects.flatMap(validateObject), []);
    });

    it(`overlay ${overlay}: each service has its Deployment, Service, HPA, PDB, NetworkPolicy and migration Job`, () => {
      const objects = render(overlay);
      const config = find(objects, 'ConfigMap', 'roster-config');
      const shutdownSeconds = Number(config.data.SHUTDOWN_TIMEOUT_MS) / 1000;
      assert.equal(config.data.DB_MIGRATE, 'false', 'replicas must not migrate at start: the Jobs do');
      for (const service of SERVICES) {
        const deployment = find(objects, 'Deployment', service);
        const pod = deployment.spec.template;
        const container = pod.spec.containers[0];
        const port = Number(container.env.find((e: Any) => e.name === 'PORT')?.value);
        assert.ok(port > 0, `${service}: PORT is set`);
        assert.equal(container.ports[0].containerPort, port);
        assert.equal(container.readinessProbe.httpGet.path, '/readyz');
        assert.equal(container.livenessProbe.httpGet.path, '/healthz');
        assert.ok(container.resources.requests.cpu && container.resources.requests.memory && container.resources.limits.memory, `${service}: resources`);
        const preStop = Number(container.lifecycle?.preStop?.exec?.command?.[1] ?? 0);
        // A graceful stop waits up to SHUTDOWN_TIMEOUT_MS for the outbox relay, then as long for open requests.
        assert.ok(pod.spec.terminationGracePeriodSeconds > preStop + 2 * shutdownSeconds, `${service}: grace period > preStop + 2 × SHUTDOWN_TIMEOUT_MS`);
        assert.deepEqual(pod.metadata.annotations, { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(port), 'prometheus.io/path': '/metrics' });

        const svc = find(objects, 'Service', service);
        assert.equal(svc.spec.ports[0].port, port);
        for (const [key, value] of Object.entries(svc.spec.selector)) assert.equal(pod.metadata.labels[key], value, `Service/${service} selects the pods`);
        const hpa = find(objects, 'HorizontalPodAutoscaler', service);
        assert.equal(hpa.spec.scaleTargetRef.name, service);
        assert.ok(hpa.spec.minReplicas >= 2);
        assert.equal(deployment.spec.replicas, undefined, 'the HPA owns the replica count');
        const pdb = find(objects, 'PodDisruptionBudget', service);
        assert.ok(pdb.spec.minAvailable < hpa.spec.minReplicas, `${service}: the PDB leaves room to evict a pod`);
        const policy = find(objects, 'NetworkPolicy', service);
        assert.deepEqual(policy.spec.policyTypes, ['Ingress', 'Egress']);
        assert.deepEqual(policy.spec.ingress, [{ ports: [{ port, protocol: 'TCP' }] }]);
        const egressPorts = policy.spec.egress.flatMap((r: Any) => r.ports.map((p: Any) => p.port)).sort();
        assert.deepEqual(egressPorts, [4318, 53, 53, 5432, 5672, 9092].sort(), `${service}: egress only to database, bus, collector, DNS`);
        for (const label of Object.keys(policy.spec.podSelector.matchLabels)) assert.ok(label in pod.metadata.labels);
        const database = policy.spec.egress.find((r: Any) => r.ports.some((p: Any) => p.port === 5432)).to;
        if (overlay === 'production') assert.ok(database[0].ipBlock?.cidr, 'production: the managed database by CIDR');
        else assert.deepEqual(database[0].podSelector.matchLabels, { 'roster.io/role': 'database', [`roster.io/db-${service}`]: 'true' }, `${service} reaches only a database pod serving it`);

        const job = find(objects, 'Job', `${service}-migrate`);
        assert.deepEqual(job.spec.template.spec.containers[0].command, ['node', `services/${service}/dist/migrate.js`]);
        assert.equal(job.spec.template.spec.restartPolicy, 'Never');
        const jobLabels = job.spec.template.metadata.labels;
        for (const [key, value] of Object.entries(policy.spec.podSelector.matchLabels)) assert.equal(jobLabels[key], value, 'the NetworkPolicy covers the Job (it needs the database)');
        const selectsJob = Object.entries(svc.spec.selector).every(([key, value]) => jobLabels[key] === value);
        assert.equal(selectsJob, false, `Service/${service} would select the migration Job's pod`);
      }
    });

    it(`overlay ${overlay}: every pod runs non-root, read-only, without privileges`, () => {
      for (const { where, spec } of podSpecs(render(overlay))) {
        assert.equal(spec.securityContext.runAsNonRoot, true, where);
        assert.equal(spec.securityContext.seccompProfile.type, 'RuntimeDefault', where);
        assert.equal(spec.automountServiceAccountToken, false, where);
        for (const c of spec.containers) {
          assert.equal(c.securityContext.readOnlyRootFilesystem, true, where);
          assert.equal(c.securityContext.allowPrivilegeEscalation, false, where);
          assert.deepEqual(c.securityContext.capabilities.drop, ['ALL'], where);
          assert.ok(c.volumeMounts.some((m: Any) => m.mountPath === '/tmp'), `${where}: writable /tmp`);
        }
      }
    });

    it(`overlay ${overlay}: every command runs a file the build produces`, () => {
      const specs = podSpecs(render(overlay));
      assert.equal(specs.length, SERVICES.length * 2);
      for (const { where, spec } of specs) for (const c of spec.containers) assert.equal(entryPointProblem(c.command), undefined, where);
    });

    it(`overlay ${overlay}: every variable set is one the services read`, () => {
      const objects = render(overlay);
      const config = configVariables();
      for (const { where, spec } of podSpecs(objects)) {
        for (const c of spec.containers) {
          const names: string[] = (c.env ?? []).map((e: Any) => e.name);
          for (const from of c.envFrom ?? []) {
            assert.ok(from.configMapRef, `${where}: envFrom only from ConfigMaps (a Secret's keys would be set unseen)`);
            names.push(...Object.keys(find(objects, 'ConfigMap', from.configMapRef.name).data));
          }
          const unread = names.filter((n) => !isReadVariable(n, config));
          assert.deepEqual(unread, [], `${where} sets variables no service reads`);
        }
      }
    });

    it(`overlay ${overlay}: the services accept roster-config, and take the client's address from the ingress (L8)`, () => {
      const settings = find(render(overlay), 'ConfigMap', 'roster-config').data;
      for (const service of SERVICES) {
        // Throws a ConfigError naming the variable when a value is invalid (the pod would not start).
        const config = loadConfig(service as ServiceName, settings, 1);
        assert.notEqual(config.trustProxy, false, `${service}: behind the ingress every client would share one address`);
      }
    });
  }

  it('the production overlay generates no Secret and pins the image', () => {
    const objects = render('production');
    assert.deepEqual(objects.filter((o) => o.kind === 'Secret'), []);
    for (const { where, spec } of podSpecs(objects)) assert.match(spec.containers[0].image, /:(?!latest$|dev$)[\w.-]+$|@sha256:/, where);
  });

  it('the dev overlays select their bus through BUS_URL', () => {
    const busUrl = (overlay: string) => Buffer.from(String(find(render(overlay), 'Secret', 'roster-bus').data.BUS_URL), 'base64').toString();
    assert.match(busUrl('rabbitmq'), /^amqp:\/\//);
    assert.match(busUrl('kafka'), /^kafka:\/\//);
  });

  it('the schema check rejects unknown and misplaced fields and wrong types', () => {
    const deployment = structuredClone(find(render('rabbitmq'), 'Deployment', 'directory'));
    assert.deepEqual(validateObject(deployment), []);
    deployment.spec.replica = 2;
    deployment.spec.template.spec.containers[0].readinesProbe = deployment.spec.template.spec.containers[0].readinessProbe;
    deployment.spec.template.metadata.annotation = {};
    const problems = validateObject(deployment);
    assert.equal(problems.length, 3, problems.join('\n'));
    assert.match(problems.join('\n'), /spec\.replica: unknown field/);
    assert.match(problems.join('\n'), /containers\[0\]\.readinesProbe: unknown field/);
    const typed = structuredClone(find(render('rabbitmq'), 'HorizontalPodAutoscaler', 'directory'));
    typed.spec.minReplicas = 'two';
    assert.match(validateObject(typed).join('\n'), /minReplicas must be integer/);
    const unknownKind = { apiVersion: 'apps/v1', kind: 'Deploymnt', metadata: { name: 'x' } };
    assert.notDeepEqual(validateObject(unknownKind), []);
  });
});
