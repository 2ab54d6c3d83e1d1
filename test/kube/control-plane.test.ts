// Proves hack/kube/control-plane.sh: a real etcd + kube-apiserver (+ kube-controller-manager)
// that enforces the Gateway API CRDs' schemas and CEL rules, RBAC and admission policies.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AdmissionregistrationV1Api,
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  DiscoveryV1Api,
  KubeConfig,
  loadAllYaml,
  type KubernetesObject,
  type V1CustomResourceDefinition,
  type V1ValidatingAdmissionPolicy,
  type V1ValidatingAdmissionPolicyBinding,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const script = join(import.meta.dirname, '../../hack/kube/control-plane.sh');
const crdDir = join(import.meta.dirname, '../../controller/apis/crds');
const ns = 'gatefleet-kube-test';
const gw = { group: 'gateway.networking.k8s.io', version: 'v1' };

function run(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      process.stderr.write(d);
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(out.trim()) : reject(new Error(`${args[0]} exited ${code}: ${err}`)),
    );
  });
}

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The API server's refusal (status code and text) of a call that must fail. */
async function refusal(p: Promise<unknown>): Promise<{ code: number; text: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as { code?: number; body?: unknown; message?: string };
    return { code: err.code ?? 0, text: `${err.message ?? ''} ${String(err.body ?? '')}` };
  }
  throw new Error('the API server accepted an object it must refuse');
}

// Through client-node's own YAML loader: its typed API calls serialize a body by the model's
// field names (xKubernetesValidations), so a plain YAML object would lose its x-kubernetes-* keys.
async function yamlDocs(file: string): Promise<KubernetesObject[]> {
  return (loadAllYaml(await readFile(file, 'utf8')) as (KubernetesObject | null)[]).filter(
    (d): d is KubernetesObject => !!d?.kind,
  );
}

describe('local control plane (hack/kube/control-plane.sh)', () => {
  let dir = '';
  let kc: KubeConfig;

  // `up` builds the binaries first when .cache/kube/<version>/bin lacks them: the first build of
  // kube-apiserver and kube-controller-manager takes many minutes on 2 cores, hence 40 minutes.
  beforeAll(async () => {
    dir = join(await mkdtemp(join(tmpdir(), 'gatefleet-kube-')), 'cp');
    const kubeconfig = (await run('up', dir, '--with-controller-manager')).split('\n').pop()!;
    kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
  }, 40 * 60_000);

  afterAll(async () => {
    if (!dir) return;
    await run('down', dir);
    await rm(join(dir, '..'), { recursive: true, force: true });
  }, 60_000);

  it('enforces the Gateway API CRDs, RBAC and admission policies', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const ext = kc.makeApiClient(ApiextensionsV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);
    const admission = kc.makeApiClient(AdmissionregistrationV1Api);
    await core.createNamespace({ body: { metadata: { name: ns } } });

    // Gateway API (experimental channel) and gatefleet's own CRDs, plus Gateway API's
    // ValidatingAdmissionPolicy that guards CRD upgrades.
    const files = (await readdir(join(crdDir, 'gateway-api/experimental')))
      .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
      .map((f) => join(crdDir, 'gateway-api/experimental', f));
    files.push(join(crdDir, 'gatefleet/gatefleet.io_fleetconfigs.yaml'));
    const names: string[] = [];
    for (const file of files) {
      for (const doc of await yamlDocs(file)) {
        if (doc.kind === 'CustomResourceDefinition') {
          await ext.createCustomResourceDefinition({ body: doc as V1CustomResourceDefinition });
          names.push(doc.metadata!.name!);
        } else if (doc.kind === 'ValidatingAdmissionPolicy') {
          await admission.createValidatingAdmissionPolicy({
            body: doc as V1ValidatingAdmissionPolicy,
          });
        } else if (doc.kind === 'ValidatingAdmissionPolicyBinding') {
          await admission.createValidatingAdmissionPolicyBinding({
            body: doc as V1ValidatingAdmissionPolicyBinding,
          });
        } else {
          throw new Error(`unexpected ${doc.kind} in ${file}`);
        }
      }
    }
    expect(names).toContain('gateways.gateway.networking.k8s.io');
    expect(names).toContain('fleetconfigs.gatefleet.io');
    for (const name of names) {
      await until(`CRD ${name} Established`, async () => {
        const crd = await ext.readCustomResourceDefinition({ name });
        const ok = crd.status?.conditions?.some(
          (c) => c.type === 'Established' && c.status === 'True',
        );
        return ok || undefined;
      });
    }

    await custom.createClusterCustomObject({
      ...gw,
      plural: 'gatewayclasses',
      body: {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'GatewayClass',
        metadata: { name: 'gatefleet' },
        spec: { controllerName: 'gatefleet.io/gateway-controller' },
      },
    });
    const gateway = (listeners: object[], name = 'gw') => ({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name, namespace: ns },
      spec: { gatewayClassName: 'gatefleet', listeners },
    });
    await custom.createNamespacedCustomObject({
      ...gw,
      namespace: ns,
      plural: 'gateways',
      body: gateway([{ name: 'http', port: 80, protocol: 'HTTP' }]),
    });
    const read = await custom.getNamespacedCustomObject({
      ...gw,
      namespace: ns,
      plural: 'gateways',
      name: 'gw',
    });
    expect(read.spec.listeners).toEqual([
      expect.objectContaining({ name: 'http', port: 80, protocol: 'HTTP' }),
    ]);
    const cls = await custom.getClusterCustomObject({
      ...gw,
      plural: 'gatewayclasses',
      name: 'gatefleet',
    });
    expect(cls.spec.controllerName).toBe('gatefleet.io/gateway-controller');

    // CEL rules of the Gateway CRD: a second listener with the same port, protocol and hostname,
    // and a TCP listener with a hostname.
    const create = (body: object) =>
      custom.createNamespacedCustomObject({ ...gw, namespace: ns, plural: 'gateways', body });
    const dup = await refusal(
      create(
        gateway(
          [
            { name: 'a', port: 80, protocol: 'HTTP' },
            { name: 'b', port: 80, protocol: 'HTTP' },
          ],
          'dup',
        ),
      ),
    );
    expect(dup.code).toBe(422);
    expect(dup.text).toContain('Combination of port, protocol and hostname must be unique');
    const tcp = await refusal(
      create(gateway([{ name: 't', port: 9000, protocol: 'TCP', hostname: 'a.example' }], 'tcp')),
    );
    expect(tcp.code).toBe(422);
    expect(tcp.text).toContain("hostname must not be specified for protocols ['TCP', 'UDP']");
    // Duplicate listener names (the list is a map keyed by name).
    const names2 = await refusal(
      create(
        gateway(
          [
            { name: 'a', port: 80, protocol: 'HTTP' },
            { name: 'a', port: 81, protocol: 'HTTP' },
          ],
          'names',
        ),
      ),
    );
    expect(names2.code).toBe(422);

    // Gateway API's ValidatingAdmissionPolicy refuses CRDs of its group older than v1.5.
    const old = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: {
        name: 'olds.gateway.networking.k8s.io',
        annotations: {
          'api-approved.kubernetes.io': 'https://github.com/kubernetes-sigs/gateway-api/pull/4530',
          'gateway.networking.k8s.io/bundle-version': 'v1.2.0',
        },
      },
      spec: {
        group: 'gateway.networking.k8s.io',
        names: { kind: 'Old', plural: 'olds' },
        scope: 'Namespaced',
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { type: 'object' } },
          },
        ],
      },
    };
    // Policies take effect a moment after they are created; dry runs leave nothing behind.
    const vap = await until('the ValidatingAdmissionPolicy to apply', async () => {
      const r = await refusal(ext.createCustomResourceDefinition({ body: old, dryRun: 'All' }));
      return r.text.includes('prohibited by default') ? r : undefined;
    });
    expect(vap.text).toContain('Installing CRDs with version other than v0.0.0-dev or v1.5+');

    // RBAC: a service account with no role bindings may not read Secrets.
    await core.createNamespacedServiceAccount({
      namespace: ns,
      body: { metadata: { name: 'nobody' } },
    });
    const { status } = await core.createNamespacedServiceAccountToken({
      namespace: ns,
      name: 'nobody',
      body: { spec: { audiences: [] } },
    });
    const cluster = kc.getCurrentCluster()!;
    const nobody = new KubeConfig();
    nobody.loadFromOptions({
      clusters: [cluster],
      users: [{ name: 'nobody', token: status!.token }],
      contexts: [{ name: 'nobody', cluster: cluster.name, user: 'nobody' }],
      currentContext: 'nobody',
    });
    const forbidden = await refusal(
      nobody.makeApiClient(CoreV1Api).listNamespacedSecret({ namespace: ns }),
    );
    expect(forbidden.code).toBe(403);

    // kube-controller-manager makes the EndpointSlice of a Service with a selector.
    await core.createNamespacedService({
      namespace: ns,
      body: {
        metadata: { name: 'echo' },
        spec: { selector: { app: 'echo' }, ports: [{ port: 80 }] },
      },
    });
    const slices = await until('the EndpointSlice of Service echo', async () => {
      const list = await kc.makeApiClient(DiscoveryV1Api).listNamespacedEndpointSlice({
        namespace: ns,
        labelSelector: 'kubernetes.io/service-name=echo',
      });
      return list.items.length > 0 ? list.items : undefined;
    });
    // No Pod matches: the controller's placeholder slice, with no endpoints.
    expect(slices[0]!.metadata?.labels?.['endpointslice.kubernetes.io/managed-by']).toBe(
      'endpointslice-controller.k8s.io',
    );
  });
});
