// The status writer against a real API server, with the production cache
// (KubeProvider) as its view of the cluster and the real translator's
// statuses: exactly the desired statuses are written, each once; an unchanged
// desired set costs no API request; other controllers' route parent entries
// survive, also when added between our read and our write (409, re-read,
// re-merge); routes that leave us lose only our entries; deleted objects are
// dropped; Events for a rejected route and a NACK, not duplicated; the rate
// limit holds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HTTPRouteStatus, RouteParentStatus } from '../../controller/apis/types.js';
import { KubeProvider } from '../../controller/providers/kube/kube-provider.js';
import type { KubeObject } from '../../controller/providers/kube/kinds.js';
import { KubeRest, type RequestInit } from '../../controller/providers/kube/rest.js';
import { EventRecorder } from '../../controller/status/events.js';
import { StatusWriter, type StatusWriterOptions } from '../../controller/status/status-writer.js';
import {
  CONTROLLER_NAME,
  translate,
  type StatusUpdate,
} from '../../controller/translator/index.js';
import {
  create,
  remove,
  startCluster,
  waitFor,
  type TestCluster,
} from '../support/kube-cluster.js';
import { gateway, gatewayClass, httpListener } from '../support/k8s.js';

const OTHER = 'example.com/other-controller';
const GW_API = '/apis/gateway.networking.k8s.io/v1';

/** A KubeRest that records every request it sends. */
class CountingRest extends KubeRest {
  readonly sent: { method: string; path: string; at: number }[] = [];
  override request<T = unknown>(method: string, path: string, init?: RequestInit): Promise<T> {
    this.sent.push({ method, path, at: performance.now() });
    return super.request<T>(method, path, init);
  }
}

let cluster: TestCluster;
let provider: KubeProvider;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  cluster = await startCluster();
  await create(cluster.rest, gatewayClass());
  await create(cluster.rest, {
    ...gatewayClass(),
    metadata: { name: 'other-class' },
    spec: { controllerName: OTHER },
  });
  provider = new KubeProvider(cluster.kc, { retryMinMs: 100, retryMaxMs: 1_000 });
  provider.start();
  await provider.whenSynced();
}, 180_000);

afterAll(async () => {
  for (const c of cleanups) await c();
  await provider?.stop();
  await cluster?.down();
});

function route(name: string, ns: string, parentRefs: object[], backend = 'svc'): KubeObject {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name, namespace: ns },
    spec: { parentRefs, rules: [{ backendRefs: [{ name: backend, port: 80 }] }] },
  };
}

/** A namespace with a Service `svc`, the Gateway `gw` (gatefleet's class) and the given routes, all seen by the cache. */
async function scenario(ns: string, routes: KubeObject[]): Promise<void> {
  await create(cluster.rest, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  await create(cluster.rest, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'svc', namespace: ns },
    spec: { ports: [{ name: 'http', port: 80 }] },
  });
  await create(cluster.rest, gateway('gw', [httpListener(80)], ns));
  for (const r of routes) await create(cluster.rest, r as Record<string, unknown>);
  await waitFor('the cache to hold the scenario', () =>
    routes.every((r) => provider.get('HTTPRoute', ns, r.metadata!.name!)) &&
    provider.get('Gateway', ns, 'gw')
      ? true
      : undefined,
  );
}

/** The real translator's statuses for one namespace (and the GatewayClass if asked). */
function desiredFor(ns: string, withClass = false): StatusUpdate[] {
  return translate(provider.inputs()).statuses.filter((s) =>
    s.kind === 'GatewayClass' ? withClass && s.name === 'gatefleet' : s.namespace === ns,
  );
}

function writer(ns: string, extra: Partial<StatusWriterOptions> = {}) {
  const rest = new CountingRest(cluster.kc);
  const w = new StatusWriter({
    rest,
    controllerName: CONTROLLER_NAME,
    current: (k, n, name) => provider.get(k, n, name),
    // Only this test's namespace: other tests' routes are not this writer's business.
    routes: () => provider.list('HTTPRoute').filter((r) => r.metadata?.namespace === ns),
    ...extra,
  });
  cleanups.push(async () => {
    await w.stop();
    rest.close();
  });
  return { w, rest };
}

function pathOf(s: { kind: string; namespace?: string; name: string }): string {
  const plural = { GatewayClass: 'gatewayclasses', Gateway: 'gateways', HTTPRoute: 'httproutes' }[
    s.kind
  ]!;
  return s.kind === 'GatewayClass'
    ? `${GW_API}/${plural}/${s.name}`
    : `${GW_API}/namespaces/${s.namespace}/${plural}/${s.name}`;
}

const getObject = (s: { kind: string; namespace?: string; name: string }) =>
  cluster.rest.get<KubeObject>(pathOf(s));

function foreignParent(gw: string, ns: string, message: string): RouteParentStatus {
  return {
    parentRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: ns, name: gw },
    controllerName: OTHER,
    conditions: [
      {
        type: 'Accepted',
        status: 'True',
        reason: 'Accepted',
        message,
        observedGeneration: 1,
        lastTransitionTime: '2026-01-01T00:00:00Z',
      },
    ],
  };
}

/** Another controller appends its own parent entry (merge patch: the whole list, as it last read it). */
async function addForeign(ns: string, name: string, entry: RouteParentStatus): Promise<KubeObject> {
  const live = await getObject({ kind: 'HTTPRoute', namespace: ns, name });
  const parents = ((live.status as HTTPRouteStatus | undefined)?.parents ?? []).filter(
    (p) => p.controllerName !== OTHER,
  );
  return cluster.rest.request<KubeObject>(
    'PATCH',
    `${pathOf({ kind: 'HTTPRoute', namespace: ns, name })}/status`,
    {
      contentType: 'application/merge-patch+json',
      body: {
        metadata: { resourceVersion: live.metadata!.resourceVersion },
        status: { parents: [...parents, entry] },
      },
    },
  );
}

const cacheAt = (kind: string, ns: string | undefined, name: string, rv: string) =>
  waitFor(`the cache to see ${kind} ${name} at ${rv}`, () =>
    provider.get(kind, ns, name)?.metadata?.resourceVersion === rv ? true : undefined,
  );

const ours = (s: unknown) =>
  ((s as HTTPRouteStatus | undefined)?.parents ?? []).filter(
    (p) => p.controllerName === CONTROLLER_NAME,
  );

describe('StatusWriter', () => {
  it('writes exactly the desired statuses once, and nothing for an unchanged desired set', async () => {
    const ns = 'sw-exact';
    await scenario(ns, [
      route('r1', ns, [{ name: 'gw' }]),
      route('r2', ns, [{ name: 'gw' }], 'missing'),
    ]);
    const desired = desiredFor(ns, true);
    expect(desired.map((s) => `${s.kind}/${s.name}`)).toEqual([
      'GatewayClass/gatefleet',
      'Gateway/gw',
      'HTTPRoute/r1',
      'HTTPRoute/r2',
    ]);
    const { w, rest } = writer(ns);
    w.update(desired);
    await w.idle();
    expect(w.stats()).toMatchObject({ writes: 4, conflicts: 0, failures: 0 });
    expect(rest.sent.filter((r) => r.method === 'PATCH')).toHaveLength(4);

    const rvs = new Map<string, string>();
    for (const s of desired) {
      const o = await getObject(s);
      rvs.set(pathOf(s), o.metadata!.resourceVersion!);
      expect(o.status).toEqual(s.status);
      // Every condition we wrote carries the generation it was decided for.
      const conds =
        s.kind === 'HTTPRoute'
          ? ours(o.status).flatMap((p) => p.conditions)
          : ((o.status as { conditions: { observedGeneration?: number }[] }).conditions ?? []);
      expect(conds.length).toBeGreaterThan(0);
      for (const c of conds) expect(c.observedGeneration).toBe(o.metadata!.generation);
    }
    const r2 = ours((await getObject({ kind: 'HTTPRoute', namespace: ns, name: 'r2' })).status)[0]!;
    expect(r2.conditions.find((c) => c.type === 'ResolvedRefs')).toMatchObject({
      status: 'False',
      reason: 'BackendNotFound',
    });

    // The same desired set again, before and after the cache has seen our writes: no request at all.
    const before = rest.sent.length;
    w.update(desired);
    await w.idle();
    for (const s of desired)
      await cacheAt(
        s.kind,
        'namespace' in s ? s.namespace : undefined,
        s.name,
        rvs.get(pathOf(s))!,
      );
    w.update(desired);
    w.update(desiredFor(ns, true));
    await w.idle();
    expect(rest.sent.length).toBe(before);
    expect(w.stats().writes).toBe(4);
    for (const s of desired)
      expect((await getObject(s)).metadata!.resourceVersion).toBe(rvs.get(pathOf(s)));

    // One route's spec changes: that route alone is written, for its new generation.
    const r1 = { kind: 'HTTPRoute', namespace: ns, name: 'r1' };
    const edited = await cluster.rest.request<KubeObject>('PATCH', pathOf(r1), {
      contentType: 'application/merge-patch+json',
      body: { spec: { hostnames: ['r1.example.com'] } },
    });
    expect(edited.metadata!.generation).toBe(2);
    await cacheAt('HTTPRoute', ns, 'r1', edited.metadata!.resourceVersion!);
    w.update(desiredFor(ns, true));
    await w.idle();
    expect(w.stats().writes).toBe(5);
    expect(rest.sent.slice(before).map((r) => `${r.method} ${r.path}`)).toEqual([
      `PATCH ${pathOf(r1)}/status`,
    ]);
    for (const c of ours((await getObject(r1)).status)[0]!.conditions)
      expect(c.observedGeneration).toBe(2);
  });

  it("keeps other controllers' parent entries, also when one is added between our read and our write", async () => {
    const ns = 'sw-foreign';
    await scenario(ns, [route('r', ns, [{ name: 'gw' }])]);
    const first = await addForeign(ns, 'r', foreignParent('theirs', ns, 'first'));
    await cacheAt('HTTPRoute', ns, 'r', first.metadata!.resourceVersion!);
    // The translator's output carries a copy of the foreign entry as it read it ("first").
    const desired = desiredFor(ns);
    expect(
      (desired.find((s) => s.kind === 'HTTPRoute')!.status as HTTPRouteStatus).parents,
    ).toHaveLength(2);

    // The writer works from snapshots taken now; then the other controller writes again,
    // and someone edits the Gateway's annotations: both our patches must conflict.
    const snapshot = new Map(
      [provider.get('HTTPRoute', ns, 'r')!, provider.get('Gateway', ns, 'gw')!].map((o) => [
        `${o.kind}/${o.metadata!.name}`,
        structuredClone(o),
      ]),
    );
    const second = foreignParent('theirs', ns, 'second');
    await addForeign(ns, 'r', second);
    await cluster.rest.request('PATCH', pathOf({ kind: 'Gateway', namespace: ns, name: 'gw' }), {
      contentType: 'application/merge-patch+json',
      body: { metadata: { annotations: { touched: 'yes' } } },
    });
    const { w } = writer(ns, {
      current: (k, n, name) =>
        (n === ns ? snapshot.get(`${k}/${name}`) : undefined) ?? provider.get(k, n, name),
    });
    w.update(desired);
    await w.idle();
    expect(w.stats()).toMatchObject({ writes: 2, conflicts: 2, failures: 0 });

    const r = await getObject({ kind: 'HTTPRoute', namespace: ns, name: 'r' });
    const parents = (r.status as HTTPRouteStatus).parents;
    expect(parents.filter((p) => p.controllerName === OTHER)).toEqual([second]);
    expect(ours(r.status)).toEqual(ours(desired.find((s) => s.kind === 'HTTPRoute')!.status));
    const gw = await getObject({ kind: 'Gateway', namespace: ns, name: 'gw' });
    expect(gw.status).toEqual(desired.find((s) => s.kind === 'Gateway')!.status);
    expect(gw.metadata!.annotations).toEqual({ touched: 'yes' });

    // Our next write (a new generation) leaves their entry alone too.
    const edited = await cluster.rest.request<KubeObject>(
      'PATCH',
      pathOf({ kind: 'HTTPRoute', namespace: ns, name: 'r' }),
      {
        contentType: 'application/merge-patch+json',
        body: { spec: { hostnames: ['r.example.com'] } },
      },
    );
    await cacheAt('HTTPRoute', ns, 'r', edited.metadata!.resourceVersion!);
    const { w: w2 } = writer(ns);
    w2.update(desiredFor(ns));
    await w2.idle();
    expect(w2.stats()).toMatchObject({ writes: 1, conflicts: 0, failures: 0 });
    const after = await getObject({ kind: 'HTTPRoute', namespace: ns, name: 'r' });
    expect(
      (after.status as HTTPRouteStatus).parents.filter((p) => p.controllerName === OTHER),
    ).toEqual([second]);
    expect(ours(after.status)[0]!.conditions[0]!.observedGeneration).toBe(2);
  });

  it('removes only our parent entries from routes that left us', async () => {
    const ns = 'sw-leave';
    await scenario(ns, [
      route('moving', ns, [{ name: 'gw' }]),
      route('staying', ns, [{ name: 'gw' }]),
    ]);
    await create(cluster.rest, {
      ...gateway('theirs', [httpListener(80)], ns),
      spec: { gatewayClassName: 'other-class', listeners: [httpListener(80)] },
    });
    const { w } = writer(ns);
    w.update(desiredFor(ns));
    await w.idle();
    expect(w.stats().writes).toBe(3);
    const foreign = foreignParent('theirs', ns, 'accepted by them');
    await addForeign(ns, 'moving', foreign);
    const staying = await getObject({ kind: 'HTTPRoute', namespace: ns, name: 'staying' });

    // The route now names only the other implementation's Gateway: no status of ours is desired.
    const moved = await cluster.rest.request<KubeObject>(
      'PATCH',
      pathOf({ kind: 'HTTPRoute', namespace: ns, name: 'moving' }),
      {
        contentType: 'application/merge-patch+json',
        body: { spec: { parentRefs: [{ name: 'theirs' }] } },
      },
    );
    await cacheAt('HTTPRoute', ns, 'moving', moved.metadata!.resourceVersion!);
    const desired = desiredFor(ns);
    expect(desired.some((s) => s.name === 'moving')).toBe(false);
    w.update(desired);
    await w.idle();
    const after = await getObject({ kind: 'HTTPRoute', namespace: ns, name: 'moving' });
    expect((after.status as HTTPRouteStatus).parents).toEqual([foreign]);
    expect(
      (await getObject({ kind: 'HTTPRoute', namespace: ns, name: 'staying' })).metadata!
        .resourceVersion,
    ).toBe(staying.metadata!.resourceVersion);
    expect(w.stats()).toMatchObject({ writes: 5, failures: 0 }); // + the Gateway's attachedRoutes 2 → 1
  });

  it('drops objects deleted before their status is written, and never writes unknown ones', async () => {
    const ns = 'sw-deleted';
    await scenario(ns, [route('doomed', ns, [{ name: 'gw' }])]);
    const desired = desiredFor(ns);
    const stale = structuredClone(provider.get('HTTPRoute', ns, 'doomed')!);
    await remove(cluster.rest, stale as Record<string, unknown>);
    const { w, rest } = writer(ns, {
      current: (k, n, name) =>
        k === 'HTTPRoute' && name === 'doomed' ? stale : provider.get(k, n, name),
    });
    w.update([
      ...desired,
      { kind: 'HTTPRoute', namespace: ns, name: 'never-existed', status: { parents: [] } },
    ]);
    await w.idle();
    expect(w.stats()).toMatchObject({ writes: 1, failures: 0 }); // the Gateway
    const doomedPath = `${pathOf({ kind: 'HTTPRoute', namespace: ns, name: 'doomed' })}/status`;
    expect(rest.sent.filter((r) => r.path === doomedPath)).toHaveLength(1);
    expect(rest.sent.some((r) => r.path.includes('never-existed'))).toBe(false);
    // Known gone: the same desired set again sends nothing for it.
    const sent = rest.sent.length;
    w.update(desired);
    await w.idle();
    expect(rest.sent.length).toBe(sent);
  });

  it('records events for a rejected route and a NACK, once each', async () => {
    const ns = 'sw-events';
    await scenario(ns, [route('lost', ns, [{ name: 'gw', sectionName: 'nope' }])]);
    const eventsRest = new KubeRest(cluster.kc);
    const recorder = new EventRecorder({
      rest: eventsRest,
      controllerName: CONTROLLER_NAME,
      instance: 'gatefleet-controller-0',
    });
    cleanups.push(async () => {
      await recorder.stop();
      eventsRest.close();
    });
    const { w } = writer(ns, { events: recorder });
    const desired = desiredFor(ns);
    const gwStatus = desired.find((s) => s.kind === 'Gateway')!;
    const routeStatus = desired.find((s) => s.kind === 'HTTPRoute')!;
    const rejected = ours(routeStatus.status)[0]!.conditions.find((c) => c.type === 'Accepted')!;
    expect(rejected).toMatchObject({ status: 'False', reason: 'NoMatchingParent' });

    const withProgrammed = (status: string, reason: string, message: string): StatusUpdate => {
      const s = structuredClone(gwStatus) as Extract<StatusUpdate, { kind: 'Gateway' }>;
      s.status.conditions = s.status.conditions!.map((c) =>
        c.type === 'Programmed' ? { ...c, status: status as 'True', reason, message } : c,
      );
      return s;
    };
    const nackMessage =
      'gateway gw-7f9c (fleet sw-events/gw) rejected the configuration: listener 0: bind failed';
    const programmed = withProgrammed(
      'True',
      'Programmed',
      '1 gateway instance applied the current configuration',
    );
    const nack = withProgrammed('False', 'Invalid', nackMessage);
    const accepted = structuredClone(routeStatus) as Extract<StatusUpdate, { kind: 'HTTPRoute' }>;
    for (const c of ours(accepted.status)[0]!.conditions)
      if (c.type === 'Accepted')
        Object.assign(c, { status: 'True', reason: 'Accepted', message: 'ok' });

    // Rejected + programmed, then NACK, then programmed and accepted again, then the same failures again.
    for (const step of [
      [programmed, routeStatus],
      [nack, routeStatus],
      [programmed, accepted],
      [nack, routeStatus],
    ]) {
      w.update(step);
      await w.idle();
    }
    await recorder.idle();
    expect(w.stats()).toMatchObject({ writes: 7, failures: 0 });

    const list = await cluster.rest.get<{ items: Record<string, unknown>[] }>(
      `/apis/events.k8s.io/v1/namespaces/${ns}/events`,
    );
    const summary = list.items
      .map((e) => {
        const r = e.regarding as { kind: string; name: string };
        return `${e.type} ${e.reason} ${r.kind}/${r.name}`;
      })
      .sort();
    expect(summary).toEqual([
      'Normal Programmed Gateway/gw',
      'Warning Invalid Gateway/gw',
      'Warning NoMatchingParent HTTPRoute/lost',
    ]);
    expect(recorder.stats()).toMatchObject({ emitted: 3, suppressed: 3, failed: 0, dropped: 0 });
    const lost = list.items.find((e) => e.reason === 'NoMatchingParent')!;
    expect(lost).toMatchObject({
      note: rejected.message,
      action: 'Accept',
      reportingController: CONTROLLER_NAME,
      reportingInstance: 'gatefleet-controller-0',
      regarding: {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        namespace: ns,
        name: 'lost',
      },
      related: { kind: 'Gateway', namespace: ns, name: 'gw' },
    });
    expect(list.items.find((e) => e.reason === 'Invalid')).toMatchObject({
      type: 'Warning',
      note: nackMessage,
    });
  });

  it('records an identical event again only once the dedup window has passed', async () => {
    const ns = 'sw-dedup';
    await create(cluster.rest, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const eventsRest = new KubeRest(cluster.kc);
    let now = Date.parse('2026-01-01T00:00:00Z');
    const recorder = new EventRecorder({
      rest: eventsRest,
      controllerName: CONTROLLER_NAME,
      instance: 'gatefleet-controller-1',
      dedupMs: 60_000,
      now: () => now,
    });
    cleanups.push(async () => {
      await recorder.stop();
      eventsRest.close();
    });
    const event = {
      type: 'Warning' as const,
      reason: 'BackendNotFound',
      note: 'backend svc not found',
      action: 'ResolveRefs',
      regarding: {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        namespace: ns,
        name: 'r',
      },
    };
    recorder.record(event);
    now += 59_000;
    recorder.record(event);
    recorder.record({ ...event, note: 'backend other not found' });
    now += 2_000;
    recorder.record(event);
    await recorder.idle();
    expect(recorder.stats()).toMatchObject({ emitted: 3, suppressed: 1, failed: 0 });
    const list = await cluster.rest.get<{ items: { note: string; eventTime: string }[] }>(
      `/apis/events.k8s.io/v1/namespaces/${ns}/events`,
    );
    expect(list.items.map((e) => `${e.eventTime} ${e.note}`).sort()).toEqual([
      '2026-01-01T00:00:00.000000Z backend svc not found',
      '2026-01-01T00:00:59.000000Z backend other not found',
      '2026-01-01T00:01:01.000000Z backend svc not found',
    ]);
  });

  it('writes any kind of its table: a FleetConfig status, once', async () => {
    const ns = 'sw-fleetconfig';
    await create(cluster.rest, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    await create(cluster.rest, {
      apiVersion: 'gatefleet.io/v1alpha1',
      kind: 'FleetConfig',
      metadata: { name: 'defaults', namespace: ns },
      spec: { replicas: 2 },
    });
    await waitFor('the cache to hold the FleetConfig', () =>
      provider.get('FleetConfig', ns, 'defaults') ? true : undefined,
    );
    const status = {
      conditions: [
        {
          type: 'Accepted',
          status: 'True',
          reason: 'Accepted',
          message: 'valid',
          observedGeneration: 1,
          lastTransitionTime: '2026-01-01T00:00:00Z',
        },
      ],
    };
    const { w, rest } = writer(ns);
    const desired = [{ kind: 'FleetConfig', namespace: ns, name: 'defaults', status }];
    w.update(desired);
    await w.idle();
    w.update(desired);
    await w.idle();
    expect(w.stats()).toMatchObject({ writes: 1, failures: 0 });
    expect(rest.sent.map((r) => `${r.method} ${r.path}`)).toEqual([
      `PATCH /apis/gatefleet.io/v1alpha1/namespaces/${ns}/fleetconfigs/defaults/status`,
    ]);
    const fc = await cluster.rest.get<KubeObject>(
      `/apis/gatefleet.io/v1alpha1/namespaces/${ns}/fleetconfigs/defaults`,
    );
    expect(fc.status).toEqual(status);
  });

  it('holds writes to the configured rate', async () => {
    const ns = 'sw-rate';
    const names = Array.from({ length: 9 }, (_, i) => `r${i}`);
    await scenario(
      ns,
      names.map((n) => route(n, ns, [{ name: 'gw' }])),
    );
    const { w, rest } = writer(ns, { qps: 5, burst: 1, concurrency: 4 });
    const t0 = performance.now();
    w.update(desiredFor(ns));
    await w.idle();
    const patches = rest.sent.filter((r) => r.method === 'PATCH').map((r) => r.at);
    expect(patches).toHaveLength(10);
    expect(w.stats()).toMatchObject({ writes: 10, failures: 0 });
    // 1 at once, then one every 200 ms: 10 writes span at least 1.8 s, and no
    // second holds more than burst + qps = 6 of them.
    expect(patches.at(-1)! - patches[0]!).toBeGreaterThanOrEqual(1_700);
    for (const a of patches)
      expect(patches.filter((b) => b >= a && b < a + 1_000).length).toBeLessThanOrEqual(6);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(1_700);
  });
});
