// Kubernetes mode assembled, against a real API server, with a real gateway
// process: nothing is translated before every kind is listed; two replicas
// translate identically and one leads; a gateway connected to the follower
// makes the leader's Gateway Programmed true (fleet reports); namespace label
// changes re-attach routes and traffic follows; bursts are coalesced and our
// own status writes cause no translation; the leader hands over.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeRuntime } from '../../controller/runtime/kube-runtime.js';
import type { StatusUpdate } from '../../controller/translator/index.js';
import { echoBackend, freePort, type EchoBackend } from '../support/backends.js';
import { GatewayProcess } from '../support/gateway-harness.js';
import { httpGet } from '../support/http.js';
import { gatewayClass } from '../support/k8s.js';
import {
  create,
  hostAddress,
  startCluster,
  waitFor,
  type TestCluster,
} from '../support/kube-cluster.js';

let cluster: TestCluster;
let backend: EchoBackend;
let listenPort: number;
const runtimes: KubeRuntime[] = [];
const gateways: GatewayProcess[] = [];

const ROUTES = '/apis/gateway.networking.k8s.io/v1/namespaces/apps/httproutes';

function route(name: string, host: string) {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name, namespace: 'apps' },
    spec: {
      parentRefs: [{ name: 'gw', namespace: 'edge' }],
      hostnames: [host],
      rules: [{ backendRefs: [{ name: 'echo', port: 80 }] }],
    },
  };
}

beforeAll(async () => {
  cluster = await startCluster();
  backend = await echoBackend('echo-1', hostAddress());
  listenPort = await freePort();
  const r = cluster.rest;
  for (const name of ['edge', 'apps', 'gatefleet-system']) {
    await create(r, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  }
  await create(r, gatewayClass());
  await create(r, {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name: 'gw', namespace: 'edge' },
    spec: {
      gatewayClassName: 'gatefleet',
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
  await create(r, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'echo', namespace: 'apps' },
    spec: { ports: [{ name: 'http', port: 80 }] },
  });
  await create(r, {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: 'echo-1',
      namespace: 'apps',
      labels: { 'kubernetes.io/service-name': 'echo' },
    },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: backend.port }],
    endpoints: [{ addresses: [hostAddress()], conditions: { ready: true } }],
  });
  await create(r, route('web', 'web.example.com'));
}, 180_000);

afterAll(async () => {
  for (const g of gateways) await g.stop('SIGKILL');
  for (const rt of runtimes) await rt.stop().catch(() => undefined);
  await backend?.close();
  await cluster?.down();
}, 60_000);

function runtime(replica: string): KubeRuntime {
  const rt = new KubeRuntime({
    kc: cluster.kc,
    namespace: 'gatefleet-system',
    replica,
    leaseName: 'gatefleet-controller',
    xds: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    reports: { heartbeatMs: 1_000, staleMs: 5_000, minIntervalMs: 100 },
  });
  runtimes.push(rt);
  return rt;
}

function gatewayStatus(rt: KubeRuntime): Extract<StatusUpdate, { kind: 'Gateway' }> | undefined {
  return rt.controller
    .statuses()
    .find((s): s is Extract<StatusUpdate, { kind: 'Gateway' }> => s.kind === 'Gateway');
}

const programmed = (rt: KubeRuntime) =>
  gatewayStatus(rt)?.status.conditions?.find((c) => c.type === 'Programmed');

const get = (host: string) =>
  httpGet(listenPort, '/', host, { address: '127.0.0.1', timeoutMs: 2_000 }).catch((e: Error) => ({
    status: 0,
    body: e.message,
  }));

describe('Kubernetes mode runtime', () => {
  let a: KubeRuntime;
  let b: KubeRuntime;

  it('translates nothing, and publishes no snapshot, until every kind is listed', async () => {
    a = runtime('replica-a');
    // Hold back one kind's list for 2 s: the others are listed long before.
    const get = a.provider.rest.get.bind(a.provider.rest);
    let held = 0;
    a.provider.rest.get = async (path, query) => {
      if (path.endsWith('/endpointslices') && held++ === 0) {
        await new Promise((r) => setTimeout(r, 2_000));
      }
      return get(path, query);
    };
    const started = a.start();
    await waitFor('xDS listening', () => a.xdsPort > 0);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(a.provider.pending()).toEqual(['EndpointSlice']);
    expect(a.cache.nodeGroups()).toEqual([]);
    expect(a.controller.translationCount()).toBe(0);
    expect(a.ready()).toBe(false);
    await started;
    expect(a.ready()).toBe(true);
    expect(a.controller.translationCount()).toBe(1);
    expect(a.cache.nodeGroups()).toEqual(['edge/gw']);
  }, 60_000);

  it('a second replica translates to the same snapshot version; exactly one leads', async () => {
    b = runtime('replica-b');
    await b.start();
    expect(b.cache.get('edge/gw')!.version).toBe(a.cache.get('edge/gw')!.version);
    await waitFor('a leader', () => a.isLeader() !== b.isLeader(), 20_000);
  }, 60_000);

  it("a gateway connected to the follower makes the leader's Gateway Programmed", async () => {
    const [leader, follower] = a.isLeader() ? [a, b] : [b, a];
    expect(programmed(leader)?.status).toBe('False');
    const gw = new GatewayProcess([
      '--xds',
      `127.0.0.1:${follower.xdsPort}`,
      '--fleet',
      'edge/gw',
      '--node-id',
      'gw-pod-1',
      '--bind-address',
      '127.0.0.1',
    ]);
    gateways.push(gw);
    await gw.ready(20_000);
    await waitFor('Programmed on the leader', () => programmed(leader)?.status === 'True', 15_000);
    expect(programmed(leader)?.message).toMatch(/1 gateway instance applied/);
    expect(leader.xds.nodes.list()).toEqual([]); // it only knows through the report
  }, 60_000);

  it('a namespace label change attaches its routes, and traffic follows', async () => {
    // apps lacks the label the listener's selector wants: the route is not allowed.
    expect((await get('web.example.com')).status).toBe(404);
    await cluster.rest.request('PATCH', '/api/v1/namespaces/apps', {
      contentType: 'application/merge-patch+json',
      body: { metadata: { labels: { 'edge-access': 'yes' } } },
    });
    await waitFor(
      'route served',
      async () => (await get('web.example.com')).status === 200,
      15_000,
    );
    expect(backend.requests.at(-1)?.headers.host).toBe('web.example.com');
  }, 60_000);

  it('coalesces a burst of 100 route creations into a few translations', async () => {
    const before = a.controller.translationCount();
    const t0 = Date.now();
    await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        cluster.rest.request('POST', ROUTES, { body: route(`burst-${i}`, `b${i}.example.com`) }),
      ),
    );
    const burstMs = Date.now() - t0;
    await waitFor(
      'all 100 routes served',
      async () =>
        (await get('b99.example.com')).status === 200 &&
        (await get('b0.example.com')).status === 200,
      30_000,
    );
    await new Promise((r) => setTimeout(r, 700));
    const translations = a.controller.translationCount() - before;
    // At most one translation per max-delay window (500 ms) of the burst, plus the trailing one.
    expect(translations).toBeLessThanOrEqual(Math.ceil(burstMs / 500) + 2);
    expect(translations).toBeLessThan(20);
  }, 90_000);

  it('a status-only change (our own writes) causes no translation', async () => {
    const before = a.controller.translationCount();
    await cluster.rest.request('PATCH', `${ROUTES}/web/status`, {
      contentType: 'application/merge-patch+json',
      body: {
        status: {
          parents: [
            {
              parentRef: { name: 'other' },
              controllerName: 'example.com/other',
              conditions: [
                {
                  type: 'Accepted',
                  status: 'True',
                  reason: 'Accepted',
                  message: '',
                  lastTransitionTime: '2026-01-01T00:00:00Z',
                },
              ],
            },
          ],
        },
      },
    });
    await waitFor(
      'the status change seen',
      () =>
        (a.provider.get('HTTPRoute', 'apps', 'web')?.status as { parents?: unknown[] })?.parents
          ?.length === 1,
    );
    await new Promise((r) => setTimeout(r, 800));
    expect(a.controller.translationCount()).toBe(before);
  }, 30_000);

  it('the leader hands over when it stops, and the new leader still sees the whole fleet', async () => {
    const [leader, follower] = a.isLeader() ? [a, b] : [b, a];
    const t0 = Date.now();
    await leader.stop();
    runtimes.splice(runtimes.indexOf(leader), 1);
    await waitFor('follower leads', () => follower.isLeader(), 15_000, 50);
    expect(Date.now() - t0).toBeLessThan(5_000);
    await waitFor('Programmed', () => programmed(follower)?.status === 'True', 15_000);
    expect((await get('web.example.com')).status).toBe(200);
  }, 60_000);
});
