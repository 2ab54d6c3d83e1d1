// `gatefleet controller`, two real replicas, against a real API server and
// kube-controller-manager, with mTLS xDS: statuses as the spec says
// (observedGeneration included), provisioned objects created and garbage-
// collected with their Gateway, a real gateway using its provisioned client
// certificate makes the Gateway Programmed and serves traffic, ReferenceGrant
// revocation, namespace selector changes, no status write when nothing
// changed, Events for rejected routes, and leader failover within 15 s.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoBackend, freePort, type EchoBackend } from '../support/backends.js';
import { CLI, ROOT } from '../support/cli.js';
import { GatewayProcess } from '../support/gateway-harness.js';
import { httpGet } from '../support/http.js';
import { gatewayClass } from '../support/k8s.js';
import { renderChart } from '../support/chart.js';
import {
  apply,
  create,
  hostAddress,
  remove,
  serviceAccountKubeconfig,
  startCluster,
  waitFor,
  type TestCluster,
} from '../support/kube-cluster.js';
import { makeCa, makeServerCert, tempDir } from '../support/xds-pki.js';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const GW = '/apis/gateway.networking.k8s.io/v1';
const NS = 'gatefleet-system';

let cluster: TestCluster;
let backend: EchoBackend;
let listenPort: number;
let pki: { dir: string; ca: string; cert: string; key: string };
/** The controller runs as the chart's ServiceAccount, with only the chart's RBAC. */
let controllerKubeconfig: string;

interface Replica {
  name: string;
  child: ChildProcess;
  logs: Any[];
  xdsPort?: number;
}
const replicas: Replica[] = [];
const gateways: GatewayProcess[] = [];

function startReplica(name: string): Replica {
  const child = spawn(process.execPath, [CLI, 'controller'], {
    cwd: ROOT,
    env: {
      ...process.env,
      KUBECONFIG: controllerKubeconfig,
      GATEFLEET_NAMESPACE: NS,
      GATEFLEET_POD_NAME: name,
      GATEFLEET_XDS: '127.0.0.1:0',
      GATEFLEET_ADMIN: '127.0.0.1:0',
      GATEFLEET_XDS_CA: pki.ca,
      GATEFLEET_XDS_CERT: pki.cert,
      GATEFLEET_XDS_KEY: pki.key,
      GATEFLEET_GATEWAY_IMAGE: 'gatefleet/gateway:test',
      GATEFLEET_GATEWAY_XDS: 'gatefleet-xds.gatefleet-system.svc:18000',
      GATEFLEET_LOG_LEVEL: 'debug',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const r: Replica = { name, child, logs: [] };
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        const rec = JSON.parse(line) as Any;
        r.logs.push(rec);
        if (rec.msg === 'gatefleet controller running') {
          r.xdsPort = Number(String(rec.xds).split(':').pop());
        }
      } catch {
        // not a log line
      }
    }
  });
  child.stderr!.on('data', (d: Buffer) => process.stderr.write(d));
  replicas.push(r);
  return r;
}

const get = <T = Any>(path: string) => cluster.rest.get<T>(path);
const cond = (conds: Any[] | undefined, type: string) => conds?.find((c) => c.type === type);

async function routeParent(ns: string, name: string): Promise<Any | undefined> {
  const r = await get(`${GW}/namespaces/${ns}/httproutes/${name}`);
  return (r.status?.parents as Any[] | undefined)?.find(
    (p) => p.controllerName === 'gatefleet.io/gateway-controller',
  );
}

function route(name: string, ns: string, host: string, backendRef: Any) {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name, namespace: ns },
    spec: {
      parentRefs: [{ name: 'gw', namespace: 'edge' }],
      hostnames: [host],
      rules: [{ backendRefs: [backendRef] }],
    },
  };
}

const request = (host: string) =>
  httpGet(listenPort, '/', host, { address: '127.0.0.1', timeoutMs: 2_000 }).catch((e: Error) => ({
    status: 0,
    body: e.message,
  }));

beforeAll(async () => {
  cluster = await startCluster({ controllerManager: true });
  backend = await echoBackend('echo-1', hostAddress());
  listenPort = await freePort();
  const dir = tempDir('gatefleet-controller-pki-');
  const ca = makeCa(dir, 'ca');
  const server = makeServerCert(dir, 'server', ca);
  pki = { dir, ca: ca.certPath, cert: server.certPath, key: server.keyPath };

  const r = cluster.rest;
  for (const [name, labels] of [
    [NS, {}],
    ['edge', {}],
    ['apps', { 'edge-access': 'yes' }],
    ['backends', {}],
  ] as const) {
    await create(r, { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
  }
  await create(r, gatewayClass());
  await create(r, {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name: 'gw', namespace: 'edge' },
    spec: {
      gatewayClassName: 'gatefleet',
      infrastructure: { labels: { team: 'edge' } },
      listeners: [
        {
          name: 'http',
          port: listenPort,
          protocol: 'HTTP',
          allowedRoutes: {
            namespaces: { from: 'Selector', selector: { matchLabels: { 'edge-access': 'yes' } } },
          },
        },
      ],
    },
  });
  for (const ns of ['apps', 'backends']) {
    await create(r, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'echo', namespace: ns },
      spec: { ports: [{ name: 'http', port: 80 }] },
    });
    await create(r, {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'echo-1', namespace: ns, labels: { 'kubernetes.io/service-name': 'echo' } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: backend.port }],
      endpoints: [{ addresses: [hostAddress()], conditions: { ready: true } }],
    });
  }
  await create(r, {
    apiVersion: 'gateway.networking.k8s.io/v1beta1',
    kind: 'ReferenceGrant',
    metadata: { name: 'apps-to-echo', namespace: 'backends' },
    spec: {
      from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'apps' }],
      to: [{ group: '', kind: 'Service' }],
    },
  });
  await create(r, route('web', 'apps', 'web.example.com', { name: 'echo', port: 80 }));
  await create(
    r,
    route('cross', 'apps', 'cross.example.com', { name: 'echo', namespace: 'backends', port: 80 }),
  );
  // The chart's RBAC, exactly as rendered, bound to the ServiceAccount the replicas run as.
  const chart = await renderChart({}, { namespace: NS });
  for (const o of chart.objects) {
    if (!['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'].includes(o.kind)) continue;
    await apply(r, o as unknown as Record<string, unknown>);
  }
  controllerKubeconfig = serviceAccountKubeconfig(cluster, NS, 'gatefleet-controller');
  startReplica('ctrl-a');
  startReplica('ctrl-b');
  await waitFor('both replicas running', () => replicas.every((x) => x.xdsPort), 60_000);
}, 240_000);

afterAll(async () => {
  for (const g of gateways) await g.stop('SIGKILL');
  for (const r of replicas) r.child.kill('SIGKILL');
  await backend?.close();
  await cluster?.down();
}, 60_000);

async function leaderName(): Promise<string | undefined> {
  const l = await get(
    `/apis/coordination.k8s.io/v1/namespaces/${NS}/leases/gatefleet-controller`,
  ).catch(() => undefined);
  return (l?.spec?.holderIdentity as string | undefined) || undefined;
}

describe('gatefleet controller on a real API server', () => {
  it('writes statuses as the spec says, observedGeneration included', async () => {
    await waitFor('GatewayClass accepted', async () => {
      const gc = await get(`${GW}/gatewayclasses/gatefleet`);
      return cond(gc.status?.conditions, 'Accepted')?.status === 'True';
    });
    const gw = await waitFor('Gateway accepted', async () => {
      const g = await get(`${GW}/namespaces/edge/gateways/gw`);
      return cond(g.status?.conditions, 'Accepted')?.status === 'True' ? g : undefined;
    });
    expect(cond(gw.status.conditions, 'Accepted')?.observedGeneration).toBe(gw.metadata.generation);
    // No gateway instance runs yet: generated, but not programmed.
    expect(cond(gw.status.conditions, 'Programmed')).toMatchObject({
      status: 'False',
      reason: 'Pending',
    });
    const p = await waitFor('route accepted', () => routeParent('apps', 'web'));
    expect(cond(p.conditions, 'Accepted')).toMatchObject({ status: 'True', observedGeneration: 1 });
    expect(cond(p.conditions, 'ResolvedRefs')).toMatchObject({ status: 'True' });
    await waitFor('attachedRoutes', async () => {
      const g = await get(`${GW}/namespaces/edge/gateways/gw`);
      return g.status?.listeners?.[0]?.attachedRoutes === 2;
    });
    // A spec change: observedGeneration follows.
    await cluster.rest.request('PATCH', `${GW}/namespaces/apps/httproutes/web`, {
      contentType: 'application/merge-patch+json',
      body: { spec: { hostnames: ['web.example.com', 'www.example.com'] } },
    });
    await waitFor('observedGeneration 2', async () => {
      const pp = await routeParent('apps', 'web');
      return cond(pp?.conditions, 'Accepted')?.observedGeneration === 2;
    });
  }, 60_000);

  it('provisions the fleet: Deployment, Service, ServiceAccount, ConfigMap and client-certificate Secret, owned by the Gateway', async () => {
    const sel = encodeURIComponent('gateway.networking.k8s.io/gateway-name=gw');
    const kinds = {
      Deployment: `/apis/apps/v1/namespaces/edge/deployments?labelSelector=${sel}`,
      Service: `/api/v1/namespaces/edge/services?labelSelector=${sel}`,
      ServiceAccount: `/api/v1/namespaces/edge/serviceaccounts?labelSelector=${sel}`,
      ConfigMap: `/api/v1/namespaces/edge/configmaps?labelSelector=${sel}`,
      Secret: `/api/v1/namespaces/edge/secrets?labelSelector=${sel}`,
    };
    const gw = await get(`${GW}/namespaces/edge/gateways/gw`);
    for (const [kind, path] of Object.entries(kinds)) {
      const items = await waitFor(`${kind} provisioned`, async () => {
        const l = await get<{ items: Any[] }>(path);
        return l.items.length > 0 ? l.items : undefined;
      });
      expect(items, kind).toHaveLength(1);
      const o = items[0]!;
      expect(o.metadata.ownerReferences, kind).toEqual([
        expect.objectContaining({ kind: 'Gateway', name: 'gw', uid: gw.metadata.uid }),
      ]);
      expect(o.metadata.labels.team, `${kind}: infrastructure label`).toBe('edge');
    }
    const svc = (await get<{ items: Any[] }>(kinds.Service)).items[0]!;
    expect(svc.spec.type).toBe('LoadBalancer');
    expect(svc.spec.ports.map((p: Any) => p.port)).toEqual([listenPort]); // no admin port
    // A cloud provider's load balancer answers: the Gateway's addresses follow the Service.
    await cluster.rest.request(
      'PATCH',
      `/api/v1/namespaces/edge/services/${svc.metadata.name}/status`,
      {
        contentType: 'application/merge-patch+json',
        body: { status: { loadBalancer: { ingress: [{ ip: '203.0.113.7' }] } } },
      },
    );
    await waitFor('Gateway status.addresses', async () => {
      const g = await get(`${GW}/namespaces/edge/gateways/gw`);
      return (
        JSON.stringify(g.status?.addresses) ===
        JSON.stringify([{ type: 'IPAddress', value: '203.0.113.7' }])
      );
    });
  }, 60_000);

  it('a gateway presenting its provisioned certificate is accepted, makes the Gateway Programmed and serves', async () => {
    const sel = encodeURIComponent('gateway.networking.k8s.io/gateway-name=gw');
    const secret = (
      await get<{ items: Any[] }>(`/api/v1/namespaces/edge/secrets?labelSelector=${sel}`)
    ).items[0]!;
    const dir = join(pki.dir, 'gateway');
    mkdirSync(dir, { recursive: true });
    for (const k of ['ca.crt', 'tls.crt', 'tls.key']) {
      writeFileSync(join(dir, k), Buffer.from(secret.data[k], 'base64'));
    }
    // Connected to the follower: the leader learns of it from the follower's report.
    const leader = await waitFor('a leader', leaderName);
    const follower = replicas.find((r) => r.name !== leader)!;
    const gw = new GatewayProcess([
      '--xds',
      `127.0.0.1:${follower.xdsPort}`,
      '--fleet',
      'edge/gw',
      '--node-id',
      'gw-pod-1',
      '--bind-address',
      '127.0.0.1',
      '--xds-ca',
      pki.ca,
      '--xds-cert',
      join(dir, 'tls.crt'),
      '--xds-key',
      join(dir, 'tls.key'),
      '--xds-server-name',
      'localhost',
    ]);
    gateways.push(gw);
    await gw.ready(30_000);
    await waitFor(
      'Programmed in the API',
      async () => {
        const g = await get(`${GW}/namespaces/edge/gateways/gw`);
        return cond(g.status?.conditions, 'Programmed')?.status === 'True';
      },
      30_000,
    );
    expect((await request('web.example.com')).status).toBe(200);
    expect((await request('cross.example.com')).status).toBe(200);
  }, 90_000);

  it('a revoked ReferenceGrant makes the cross-namespace backend unresolved', async () => {
    await remove(cluster.rest, {
      apiVersion: 'gateway.networking.k8s.io/v1beta1',
      kind: 'ReferenceGrant',
      metadata: { name: 'apps-to-echo', namespace: 'backends' },
    });
    await waitFor('RefNotPermitted', async () => {
      const p = await routeParent('apps', 'cross');
      const rr = cond(p?.conditions, 'ResolvedRefs');
      return rr?.status === 'False' && rr.reason === 'RefNotPermitted';
    });
    // The spec: requests to a backend that cannot be used get a 500.
    await waitFor('500', async () => (await request('cross.example.com')).status === 500);
    expect((await request('web.example.com')).status).toBe(200);
  }, 60_000);

  it('follows namespace selector changes both ways', async () => {
    await cluster.rest.request('PATCH', '/api/v1/namespaces/apps', {
      contentType: 'application/merge-patch+json',
      body: { metadata: { labels: { 'edge-access': null } } },
    });
    await waitFor('NotAllowedByListeners', async () => {
      const a = cond((await routeParent('apps', 'web'))?.conditions, 'Accepted');
      return a?.status === 'False' && a.reason === 'NotAllowedByListeners';
    });
    await waitFor('404', async () => (await request('web.example.com')).status === 404);
    await cluster.rest.request('PATCH', '/api/v1/namespaces/apps', {
      contentType: 'application/merge-patch+json',
      body: { metadata: { labels: { 'edge-access': 'yes' } } },
    });
    await waitFor('Accepted again', async () => {
      return cond((await routeParent('apps', 'web'))?.conditions, 'Accepted')?.status === 'True';
    });
    await waitFor('200', async () => (await request('web.example.com')).status === 200);
  }, 60_000);

  it('records an Event when a route is rejected', async () => {
    await create(cluster.rest, {
      ...route('orphan', 'apps', 'orphan.example.com', { name: 'echo', port: 80 }),
      spec: {
        parentRefs: [{ name: 'gw', namespace: 'edge', sectionName: 'no-such-listener' }],
        rules: [{ backendRefs: [{ name: 'echo', port: 80 }] }],
      },
    });
    const ev = await waitFor('an Event for the rejected route', async () => {
      const l = await get<{ items: Any[] }>('/apis/events.k8s.io/v1/namespaces/apps/events');
      return l.items.find((e) => e.regarding?.name === 'orphan' && e.type === 'Warning');
    });
    expect(ev.reportingController).toBe('gatefleet.io/gateway-controller');
    expect(ev.reason).toBe('NoMatchingParent');
  }, 60_000);

  it('writes no status when nothing changed', async () => {
    const snapshot = async () => {
      const paths = [
        `${GW}/gatewayclasses/gatefleet`,
        `${GW}/namespaces/edge/gateways/gw`,
        `${GW}/namespaces/apps/httproutes/web`,
        `${GW}/namespaces/apps/httproutes/cross`,
        `${GW}/namespaces/apps/httproutes/orphan`,
      ];
      return Promise.all(paths.map(async (p) => (await get(p)).metadata.resourceVersion as string));
    };
    // Let the writes of earlier tests settle.
    let before = await snapshot();
    await waitFor('quiet', async () => {
      await new Promise((r) => setTimeout(r, 1_500));
      const now = await snapshot();
      const same = JSON.stringify(now) === JSON.stringify(before);
      before = now;
      return same;
    });
    // A change that makes both replicas translate again, with the same result.
    await cluster.rest.request('PATCH', '/api/v1/namespaces/backends/services/echo', {
      contentType: 'application/merge-patch+json',
      body: { metadata: { labels: { touched: 'yes' } } },
    });
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await snapshot()).toEqual(before);
  }, 60_000);

  it('fails over to the other replica within 15 s when the leader dies', async () => {
    const leader = await waitFor('a leader', leaderName);
    const dying = replicas.find((r) => r.name === leader)!;
    const t0 = Date.now();
    dying.child.kill('SIGKILL');
    const next = await waitFor(
      'a new leader',
      async () => {
        const n = await leaderName();
        return n && n !== leader ? n : undefined;
      },
      20_000,
      100,
    );
    expect(Date.now() - t0).toBeLessThanOrEqual(15_000);
    expect(replicas.map((r) => r.name)).toContain(next);
    // The new leader writes status: a new route gets its parent entry.
    await create(
      cluster.rest,
      route('after-failover', 'apps', 'late.example.com', { name: 'echo', port: 80 }),
    );
    await waitFor(
      'status from the new leader',
      async () => {
        return (
          cond((await routeParent('apps', 'after-failover'))?.conditions, 'Accepted')?.status ===
          'True'
        );
      },
      20_000,
    );
  }, 60_000);

  it('garbage-collects the provisioned objects with their Gateway', async () => {
    await remove(cluster.rest, {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: 'gw', namespace: 'edge' },
    });
    const sel = encodeURIComponent('gateway.networking.k8s.io/gateway-name=gw');
    for (const path of [
      `/apis/apps/v1/namespaces/edge/deployments?labelSelector=${sel}`,
      `/api/v1/namespaces/edge/services?labelSelector=${sel}`,
      `/api/v1/namespaces/edge/secrets?labelSelector=${sel}`,
    ]) {
      await waitFor(
        `${path} removed`,
        async () => (await get<{ items: unknown[] }>(path)).items.length === 0,
        30_000,
      );
    }
  }, 60_000);

  it("needed nothing beyond the chart's RBAC: no request of either replica was forbidden", () => {
    const forbidden = replicas.flatMap((r) =>
      r.logs.filter((l) => /\b403\b|forbidden/i.test(JSON.stringify(l))),
    );
    expect(forbidden).toEqual([]);
    // And the replicas did log (the check above is not vacuous).
    expect(replicas.every((r) => r.logs.length > 5)).toBe(true);
  });
});
