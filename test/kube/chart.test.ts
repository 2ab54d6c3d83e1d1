// The Helm chart against a real API server: every rendered object passes a
// server-side dry-run apply (schemas, RBAC objects, the GatewayClass against
// the Gateway API CRD), and `helm install` / `helm upgrade` keep the xDS CA —
// including the upgrade from a Secret without ca.key, which adds a new CA next
// to the old one and keeps the serving certificate.
import { execFile } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHART_DIR, helm, renderChart } from '../support/chart.js';
import { create, startCluster, type TestCluster } from '../support/kube-cluster.js';

const run = promisify(execFile);
let cluster: TestCluster;

beforeAll(async () => {
  cluster = await startCluster();
}, 180_000);
afterAll(async () => cluster?.down());

function pathOf(o: {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}) {
  const plural: Record<string, string> = {
    ClusterRole: 'clusterroles',
    ClusterRoleBinding: 'clusterrolebindings',
    Role: 'roles',
    RoleBinding: 'rolebindings',
    Deployment: 'deployments',
    Service: 'services',
    ServiceAccount: 'serviceaccounts',
    Secret: 'secrets',
    GatewayClass: 'gatewayclasses',
    CustomResourceDefinition: 'customresourcedefinitions',
  };
  const p = plural[o.kind];
  if (!p) throw new Error(`the chart renders a ${o.kind}; add it here`);
  const base = o.apiVersion.includes('/') ? `/apis/${o.apiVersion}` : `/api/${o.apiVersion}`;
  const ns = o.metadata.namespace ? `/namespaces/${o.metadata.namespace}` : '';
  return `${base}${ns}/${p}/${o.metadata.name}`;
}

async function helmCmd(args: string[]): Promise<string> {
  const bin = await helm();
  const { stdout } = await run(bin, [...args, '--kubeconfig', cluster.kubeconfigPath], {
    env: {
      ...process.env,
      HELM_CACHE_HOME: `${cluster.dir}/helm-cache`,
      HELM_CONFIG_HOME: `${cluster.dir}/helm-config`,
      HELM_DATA_HOME: `${cluster.dir}/helm-data`,
    },
  });
  return stdout;
}

async function secretData(ns: string, name: string): Promise<Record<string, Buffer>> {
  const s = await cluster.rest.get<{ data: Record<string, string> }>(
    `/api/v1/namespaces/${ns}/secrets/${name}`,
  );
  return Object.fromEntries(Object.entries(s.data).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
}

describe('charts/gatefleet on a real API server', () => {
  it('every rendered object passes a server-side dry-run apply', async () => {
    await create(cluster.rest, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'gatefleet-system' },
    });
    const chart = await renderChart({}, { includeCrds: true });
    expect(chart.objects.length).toBeGreaterThan(8);
    const refusals: string[] = [];
    for (const o of chart.objects) {
      try {
        await cluster.rest.request('PATCH', pathOf(o), {
          query: { fieldManager: 'helm', dryRun: 'All', fieldValidation: 'Strict' },
          contentType: 'application/apply-patch+yaml',
          body: o,
        });
      } catch (e) {
        refusals.push(`${o.kind}/${o.metadata.name}: ${(e as Error).message}`);
      }
    }
    expect(refusals).toEqual([]);
    // Dry run: nothing was stored.
    await expect(
      cluster.rest.get(
        '/apis/apps/v1/namespaces/gatefleet-system/deployments/gatefleet-controller',
      ),
    ).rejects.toThrow(/404/);
  }, 120_000);

  it('helm install, then upgrade, keeps the generated xDS CA and its key', async () => {
    await helmCmd(['install', 'gf', CHART_DIR, '-n', 'gf-a', '--create-namespace', '--skip-crds']);
    const first = await secretData('gf-a', 'gf-gatefleet-xds-tls').catch(async () =>
      secretData('gf-a', 'gf-xds-tls'),
    );
    expect(Object.keys(first).sort()).toEqual(['ca.crt', 'ca.key', 'tls.crt', 'tls.key']);
    const ca = new X509Certificate(first['ca.crt']!);
    expect(ca.checkPrivateKey(createPrivateKey(first['ca.key']!))).toBe(true);
    await helmCmd(['upgrade', 'gf', CHART_DIR, '-n', 'gf-a', '--skip-crds']);
    const again = await secretData('gf-a', 'gf-gatefleet-xds-tls').catch(async () =>
      secretData('gf-a', 'gf-xds-tls'),
    );
    expect(again).toEqual(first);
  }, 120_000);

  it('an upgrade from a Secret without ca.key adds a new CA beside the old one and keeps serving', async () => {
    // A second release (its own cluster-scoped names; the first owns the GatewayClass).
    await helmCmd([
      'install',
      'gg',
      CHART_DIR,
      '-n',
      'gf-b',
      '--create-namespace',
      '--skip-crds',
      '--set',
      'gatewayClass.create=false',
    ]);
    const name = (
      await cluster.rest.get<{ items: { metadata: { name: string } }[] }>(
        '/api/v1/namespaces/gf-b/secrets',
      )
    ).items
      .map((s) => s.metadata.name)
      .find((n) => n.endsWith('xds-tls'))!;
    // What an install of the earlier chart left: no ca.key.
    await cluster.rest.request('PATCH', `/api/v1/namespaces/gf-b/secrets/${name}`, {
      contentType: 'application/json-patch+json',
      body: [{ op: 'remove', path: '/data/ca.key' }],
    });
    const before = await secretData('gf-b', name);
    expect(before['ca.key']).toBeUndefined();
    await helmCmd([
      'upgrade',
      'gg',
      CHART_DIR,
      '-n',
      'gf-b',
      '--skip-crds',
      '--set',
      'gatewayClass.create=false',
    ]);
    const after = await secretData('gf-b', name);
    expect(after['tls.crt']).toEqual(before['tls.crt']);
    expect(after['tls.key']).toEqual(before['tls.key']);
    const bundle = after['ca.crt']!.toString();
    const cas = bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)!;
    expect(cas).toHaveLength(2);
    expect(new X509Certificate(cas[0]!).raw).toEqual(new X509Certificate(before['ca.crt']!).raw);
    const added = new X509Certificate(cas[1]!);
    expect(added.checkPrivateKey(createPrivateKey(after['ca.key']!))).toBe(true);
    // The serving certificate still chains to a CA in the bundle.
    expect(
      new X509Certificate(after['tls.crt']!).verify(new X509Certificate(cas[0]!).publicKey),
    ).toBe(true);
  }, 120_000);
});
