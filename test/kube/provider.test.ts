// The Kubernetes provider against a real API server: synced only after every
// kind is listed; watch events; an expired watch (410 Gone) relists and
// reconciles what it missed; an API server restart is survived; status-only
// changes are told apart; kinds not installed count as empty and are picked
// up once installed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeProvider, type CacheChange } from '../../controller/providers/kube/kube-provider.js';
import { WATCHED_KINDS } from '../../controller/providers/kube/kinds.js';
import {
  create,
  remove,
  restartApiServer,
  startCluster,
  waitFor,
  type TestCluster,
} from '../support/kube-cluster.js';
import { gateway, gatewayClass, httpListener } from '../support/k8s.js';

let cluster: TestCluster;
const providers: KubeProvider[] = [];

beforeAll(async () => {
  cluster = await startCluster();
  await create(cluster.rest, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'p1' } });
}, 180_000);
afterAll(async () => {
  for (const p of providers) await p.stop();
  await cluster?.down();
});

/** Compacts the test cluster's etcd up to its current revision (etcd's JSON gateway). */
async function compactEtcd(dir: string): Promise<void> {
  const pid = readFileSync(join(dir, 'etcd.pid'), 'utf8').trim();
  const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  const url = args[args.indexOf('--listen-client-urls') + 1]!;
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${url}${path}`, { method: 'POST', body: JSON.stringify(body) });
    expect(res.status, `etcd ${path}`).toBe(200);
    return (await res.json()) as { header: { revision: string } };
  };
  const { header } = await post('/v3/kv/range', { key: Buffer.from('/').toString('base64') });
  await post('/v3/kv/compaction', { revision: header.revision, physical: true });
}

function provider(opts: ConstructorParameters<typeof KubeProvider>[1] = {}): KubeProvider {
  const p = new KubeProvider(cluster.kc, { retryMinMs: 100, retryMaxMs: 1_000, ...opts });
  providers.push(p);
  return p;
}

function route(name: string, ns = 'p1', labels: Record<string, string> = {}) {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name, namespace: ns, labels },
    spec: { parentRefs: [{ name: 'gw' }], rules: [{ backendRefs: [{ name: 'svc', port: 80 }] }] },
  };
}

const kindsOf = (p: KubeProvider) =>
  p.inputs().map((i) => {
    const o = i.object as { kind: string; metadata: { namespace?: string; name: string } };
    return `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
  });

describe('KubeProvider', () => {
  it('is synced only once every kind is listed, and then holds what exists', async () => {
    await create(cluster.rest, gatewayClass());
    await create(cluster.rest, gateway('gw', [httpListener(80)], 'p1'));
    await create(cluster.rest, route('before-start'));
    const p = provider();
    expect(p.synced()).toBe(false);
    p.start();
    expect(p.synced()).toBe(false);
    expect(p.pending().sort()).toEqual(WATCHED_KINDS.map((k) => k.kind).sort());
    await p.whenSynced();
    expect(p.synced()).toBe(true);
    const all = kindsOf(p);
    expect(all).toContain('GatewayClass//gatefleet');
    expect(all).toContain('Gateway/p1/gw');
    expect(all).toContain('HTTPRoute/p1/before-start');
    expect(all).toContain('Namespace//p1');
    // Objects carry kind/apiVersion (list items do not) and no managed fields.
    const r = p.get('HTTPRoute', 'p1', 'before-start')!;
    expect(r.apiVersion).toBe('gateway.networking.k8s.io/v1');
    expect(r.metadata?.managedFields).toBeUndefined();
    // CRDs are trimmed to what the translator reads.
    const crd = p.get(
      'CustomResourceDefinition',
      undefined,
      'httproutes.gateway.networking.k8s.io',
    );
    expect(crd?.spec).toEqual({ group: 'gateway.networking.k8s.io' });
  }, 60_000);

  it('follows adds, updates, deletes and namespace label changes, telling status-only changes apart', async () => {
    const p = provider();
    const changes: CacheChange[] = [];
    p.onChange((c) => changes.push(c));
    p.start();
    await p.whenSynced();
    changes.length = 0;
    await create(cluster.rest, route('live'));
    await waitFor('add', () => p.get('HTTPRoute', 'p1', 'live'));
    await cluster.rest.request(
      'PATCH',
      '/apis/gateway.networking.k8s.io/v1/namespaces/p1/httproutes/live',
      {
        contentType: 'application/merge-patch+json',
        body: { metadata: { labels: { tier: 'dmz' } } },
      },
    );
    await waitFor(
      'label',
      () => p.get('HTTPRoute', 'p1', 'live')?.metadata?.labels?.tier === 'dmz',
    );
    await cluster.rest.request(
      'PATCH',
      '/apis/gateway.networking.k8s.io/v1/namespaces/p1/httproutes/live/status',
      {
        contentType: 'application/merge-patch+json',
        body: { status: { parents: [] } },
      },
    );
    await cluster.rest.request('PATCH', '/api/v1/namespaces/p1', {
      contentType: 'application/merge-patch+json',
      body: { metadata: { labels: { team: 'a' } } },
    });
    await waitFor(
      'namespace label',
      () => p.get('Namespace', undefined, 'p1')?.metadata?.labels?.team === 'a',
    );
    await remove(cluster.rest, route('live'));
    await waitFor('delete', () => p.get('HTTPRoute', 'p1', 'live') === undefined);
    const seen = changes
      .filter((c) => c.object?.metadata?.name === 'live' || c.kind === 'Namespace')
      .map((c) => `${c.kind}:${c.type}:${c.statusOnly}`);
    expect(seen).toEqual([
      'HTTPRoute:add:false',
      'HTTPRoute:update:false', // labels
      'HTTPRoute:update:true', // status only
      'Namespace:update:false',
      'HTTPRoute:delete:false',
    ]);
  }, 60_000);

  it('keeps only ca.crt of ConfigMaps, and counts an update only when ca.crt changed', async () => {
    const p = provider();
    const changes: CacheChange[] = [];
    p.onChange((c) => changes.push(c));
    p.start();
    await p.whenSynced();
    const path = '/api/v1/namespaces/p1/configmaps/bundle';
    const patch = (data: Record<string, string>) =>
      cluster.rest.request('PATCH', path, {
        contentType: 'application/merge-patch+json',
        body: { data },
      });
    await create(cluster.rest, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'bundle', namespace: 'p1' },
      data: { 'ca.crt': 'one', other: 'x' },
    });
    await waitFor('add', () => p.get('ConfigMap', 'p1', 'bundle'));
    await patch({ other: 'y' });
    await patch({ 'ca.crt': 'two' });
    await waitFor(
      'ca.crt',
      () =>
        (p.get('ConfigMap', 'p1', 'bundle')?.data as Record<string, string>)?.['ca.crt'] === 'two',
    );
    expect(p.get('ConfigMap', 'p1', 'bundle')?.data).toEqual({ 'ca.crt': 'two' });
    const seen = changes
      .filter((c) => c.object?.metadata?.name === 'bundle')
      .map((c) => `${c.type}:${c.statusOnly}`);
    expect(seen).toEqual(['add:false', 'update:true', 'update:false']);
  }, 60_000);

  it('relists after its watch expires (410 Gone) and reconciles what it missed', async () => {
    await create(cluster.rest, route('stays'));
    await create(cluster.rest, route('goes'));
    const p = provider();
    const changes: CacheChange[] = [];
    p.onChange((c) => changes.push(c));
    p.start();
    await p.whenSynced();
    expect(p.get('HTTPRoute', 'p1', 'goes')).toBeDefined();
    // Stop the HTTPRoute watch, change the cluster behind its back, and
    // restart it from a resourceVersion the API server no longer has (what a
    // compaction does to a long-disconnected watcher).
    const state = (
      p as unknown as {
        states: Map<
          string,
          { informer: { stop(): Promise<void>; start(): Promise<void>; resourceVersion: string } }
        >;
      }
    ).states.get('HTTPRoute')!;
    changes.length = 0;
    await state.informer.stop();
    await remove(cluster.rest, route('goes'));
    await create(cluster.rest, route('new'));
    const lists: string[] = [];
    const get = p.rest.get.bind(p.rest);
    p.rest.get = (path, query) => {
      lists.push(path);
      return get(path, query);
    };
    // Compacting etcd makes the old resourceVersion gone whichever way the
    // API server serves the watch (its watch cache, or etcd directly while
    // that cache initialises), so the 410 is certain.
    await compactEtcd(cluster.dir);
    state.informer.resourceVersion = '1';
    void state.informer.start();
    // The stopped watch may still have delivered the two changes: what
    // proves the relist is the list request itself.
    await waitFor(
      'relist',
      () =>
        lists.includes('/apis/gateway.networking.k8s.io/v1/httproutes') &&
        p.get('HTTPRoute', 'p1', 'new') &&
        !p.get('HTTPRoute', 'p1', 'goes'),
      20_000,
    );
    expect(lists).toContain('/apis/gateway.networking.k8s.io/v1/httproutes');
    expect(p.get('HTTPRoute', 'p1', 'stays')).toBeDefined();
    const names = changes.map((c) => `${c.type}:${c.object?.metadata?.name}`);
    expect(names).toContain('delete:goes');
    expect(names).toContain('add:new');
  }, 60_000);

  it('survives an API server restart and sees changes made after it', async () => {
    const p = provider();
    p.start();
    await p.whenSynced();
    await restartApiServer(cluster, 1_000);
    await create(cluster.rest, route('after-restart'));
    await waitFor('event after restart', () => p.get('HTTPRoute', 'p1', 'after-restart'), 30_000);
    await remove(cluster.rest, route('before-start'));
    await waitFor('delete after restart', () => !p.get('HTTPRoute', 'p1', 'before-start'), 30_000);
  }, 180_000);

  it('counts a kind that is not installed as empty, and picks it up once installed', async () => {
    const p = provider({
      absentRetryMs: 500,
      kinds: [
        ...WATCHED_KINDS.filter((k) => k.kind === 'Namespace'),
        {
          kind: 'Widget',
          group: 'example.com',
          version: 'v1',
          plural: 'widgets',
          namespaced: true,
          optional: true,
        },
      ],
    });
    p.start();
    await p.whenSynced();
    expect(p.list('Widget')).toEqual([]);
    await cluster.rest.request('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
      body: {
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: 'widgets.example.com' },
        spec: {
          group: 'example.com',
          names: { kind: 'Widget', plural: 'widgets', singular: 'widget', listKind: 'WidgetList' },
          scope: 'Namespaced',
          versions: [
            {
              name: 'v1',
              served: true,
              storage: true,
              schema: {
                openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
              },
            },
          ],
        },
      },
    });
    await waitFor(
      'widget CRD served',
      () => cluster.rest.get('/apis/example.com/v1/widgets').then(() => true),
      30_000,
    );
    await cluster.rest.request('POST', '/apis/example.com/v1/namespaces/p1/widgets', {
      body: { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } },
    });
    await waitFor('widget seen', () => p.get('Widget', 'p1', 'w'), 30_000);
  }, 90_000);
});
