// The three topologies with real gateway processes: gatefleet's standalone
// runtime (file provider → controller → xDS server → one local gateway
// process per fleet or shard) on a temporary directory of YAML.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runStandalone } from '../../cli/run-command.js';
import { echoBackend, type EchoBackend } from '../support/backends.js';
import { httpGet } from '../support/http.js';
import { gateway, gatewayClass, route, service } from '../support/k8s.js';
import { startLoad } from '../support/load.js';
import { eventually } from '../support/gateway-harness.js';

type Obj = Record<string, unknown>;
const PORT = 18080;

interface Running {
  stop: () => Promise<void>;
  adminPort: number;
}

async function fleetState(adminPort: number): Promise<{
  nodeGroups: {
    name: string;
    version: string;
    address?: string;
    nodes: { id: string; appliedVersion?: string }[];
  }[];
}> {
  return (await fetch(`http://127.0.0.1:${adminPort}/fleet`)).json() as never;
}

async function statuses(adminPort: number): Promise<{
  resources: {
    kind: string;
    namespace?: string;
    name: string;
    status: { conditions?: { type: string; status: string; reason: string; message: string }[] };
  }[];
}> {
  return (await fetch(`http://127.0.0.1:${adminPort}/status`)).json() as never;
}

/** Resolves once every node group has a gateway that applied its current version. */
async function allApplied(adminPort: number, groups: number): Promise<Map<string, string>> {
  return eventually(
    async () => {
      const f = await fleetState(adminPort);
      const ok =
        f.nodeGroups.length === groups &&
        f.nodeGroups.every(
          (g) => g.nodes.length > 0 && g.nodes.every((n) => n.appliedVersion === g.version),
        );
      return ok ? new Map(f.nodeGroups.map((g) => [g.name, g.address!])) : undefined;
    },
    'every node group applied',
    30_000,
  );
}

function fleetConfig(name: string, spec: Obj, namespace = 'infra'): Obj {
  return {
    apiVersion: 'gatefleet.io/v1alpha1',
    kind: 'FleetConfig',
    metadata: { name, namespace },
    spec,
  };
}

function listener(hostname?: string): Obj {
  return {
    name: 'http',
    port: PORT,
    protocol: 'HTTP',
    ...(hostname ? { hostname } : {}),
    allowedRoutes: { namespaces: { from: 'All' } },
  };
}

describe('topologies with real gateway processes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gf-topologies-'));
  let running: Running;
  const backends: Record<string, EchoBackend> = {};
  let addresses: Map<string, string>;

  const write = (objs: Obj[]) =>
    writeFileSync(join(dir, 'config.yaml'), objs.map((o) => stringify(o)).join('---\n'));
  const routeTo = (
    name: string,
    host: string,
    backend: string,
    labels?: Record<string, string>,
    parent = 'edge',
  ) => {
    const r = route(
      name,
      {
        parentRefs: [{ name: parent, namespace: 'infra' }],
        hostnames: [host],
        rules: [{ backendRefs: [{ name: backend, port: 80 }] }],
      },
      'apps',
    );
    if (labels) (r.metadata as Obj).labels = labels;
    return r;
  };
  let objects: Obj[];

  beforeAll(async () => {
    for (const n of ['public', 'internal', 'payments', 'shared'])
      backends[n] = await echoBackend(n);
    objects = [
      gatewayClass(),
      // Sharded: dmz takes routes labelled gatefleet.io/shard=dmz, internal takes all.
      fleetConfig('edge', {
        shards: [
          { name: 'dmz', routeSelector: { matchLabels: { 'gatefleet.io/shard': 'dmz' } } },
          { name: 'internal' },
        ],
      }),
      gateway('edge', [listener('*.corp.example')], 'infra', {
        infrastructure: {
          parametersRef: { group: 'gatefleet.io', kind: 'FleetConfig', name: 'edge' },
        },
      }),
      routeTo('public-api', 'api.corp.example', 'public', { 'gatefleet.io/shard': 'dmz' }),
      routeTo('admin', 'admin.corp.example', 'internal'),
      // A gateway per service: payments has its own fleet.
      gateway('payments', [listener()], 'infra'),
      routeTo('payments', 'pay.example', 'payments', undefined, 'payments'),
      // A shared gateway.
      gateway('shared', [listener()], 'infra'),
      routeTo('shop', 'shop.example', 'shared', undefined, 'shared'),
      ...service('public', [backends.public!.port], { namespace: 'apps' }),
      ...service('internal', [backends.internal!.port], { namespace: 'apps' }),
      ...service('payments', [backends.payments!.port], { namespace: 'apps' }),
      ...service('shared', [backends.shared!.port], { namespace: 'apps' }),
    ];
    write(objects);
    running = await runStandalone({
      config: dir,
      xds: '127.0.0.1:0',
      admin: '127.0.0.1:0',
      firstAddress: '127.0.30.1',
      gateways: true,
    });
    addresses = await allApplied(running.adminPort, 4);
  }, 60_000);

  afterAll(async () => {
    await running?.stop();
    for (const b of Object.values(backends)) await b.close();
  });

  const get = (group: string, host: string) =>
    httpGet(PORT, '/', host, { address: addresses.get(group)! });

  it('runs one gateway per fleet and per shard, each with only its own routes', async () => {
    expect([...addresses.keys()].sort()).toEqual([
      'infra/edge#dmz',
      'infra/edge#internal',
      'infra/payments',
      'infra/shared',
    ]);
    // The DMZ shard serves the labelled route and answers 404 for the internal one.
    expect(JSON.parse((await get('infra/edge#dmz', 'api.corp.example')).body).pod).toBe('public');
    expect((await get('infra/edge#dmz', 'admin.corp.example')).status).toBe(404);
    // The internal shard serves both.
    expect(JSON.parse((await get('infra/edge#internal', 'api.corp.example')).body).pod).toBe(
      'public',
    );
    expect(JSON.parse((await get('infra/edge#internal', 'admin.corp.example')).body).pod).toBe(
      'internal',
    );
    // Dedicated and shared gateways serve their own routes only.
    expect(JSON.parse((await get('infra/payments', 'pay.example')).body).pod).toBe('payments');
    expect((await get('infra/payments', 'shop.example')).status).toBe(404);
    expect(JSON.parse((await get('infra/shared', 'shop.example')).body).pod).toBe('shared');
    // Status says where each route is loaded, and every Gateway is Programmed by its fleet.
    const s = await statuses(running.adminPort);
    const admin = s.resources.find((r) => r.kind === 'HTTPRoute' && r.name === 'admin')!;
    const sharded = (
      admin.status as {
        parents: { conditions: { type: string; status: string; message: string }[] }[];
      }
    ).parents[0]!.conditions.find((c) => c.type === 'gatefleet.io/Sharded')!;
    expect(sharded).toMatchObject({
      status: 'True',
      message: 'loaded on shards internal of fleet infra/edge',
    });
    for (const g of s.resources.filter((r) => r.kind === 'Gateway')) {
      expect(g.status.conditions!.find((c) => c.type === 'Programmed')).toMatchObject({
        status: 'True',
        reason: 'Programmed',
      });
    }
  });

  it('moves a relabelled route between shards with no error on the shard it stays on', async () => {
    const load = startLoad(PORT, '/', 'api.corp.example', {
      address: addresses.get('infra/edge#internal')!,
      concurrency: 2,
    });
    const started = Date.now();
    try {
      // public-api leaves the DMZ shard (label removed); it stays on internal.
      objects = objects.map((o) =>
        o.kind === 'HTTPRoute' && (o.metadata as Obj).name === 'public-api'
          ? routeTo('public-api', 'api.corp.example', 'public')
          : o,
      );
      write(objects);
      await eventually(
        async () =>
          (await get('infra/edge#dmz', 'api.corp.example')).status === 404 ? true : undefined,
        'the DMZ shard to drop the route',
        20_000,
      );
      await allApplied(running.adminPort, 4);
      // And back.
      objects = objects.map((o) =>
        o.kind === 'HTTPRoute' && (o.metadata as Obj).name === 'public-api'
          ? routeTo('public-api', 'api.corp.example', 'public', { 'gatefleet.io/shard': 'dmz' })
          : o,
      );
      write(objects);
      await eventually(
        async () =>
          (await get('infra/edge#dmz', 'api.corp.example')).status === 200 ? true : undefined,
        'the DMZ shard to take the route back',
        20_000,
      );
    } finally {
      // Both moves can take well under a second: keep the internal shard
      // under load for at least one, so it is shown serving throughout.
      await new Promise((r) => setTimeout(r, Math.max(0, 1_000 - (Date.now() - started))));
      const r = await load.stop();
      expect(r.failures).toEqual([]);
      expect(r.ok).toBeGreaterThan(10);
    }
  });

  it('shows a NACK from one shard in its Gateway status, and the others keep serving', async () => {
    // Something else holds the DMZ shard's port on its address: add a second
    // listener there, which the DMZ gateway cannot bind, so it refuses the update.
    const blocker: Server = createServer();
    const dmz = addresses.get('infra/edge#dmz')!;
    await new Promise<void>((r) => blocker.listen(PORT + 1, dmz, r));
    try {
      objects = objects.map((o) =>
        o.kind === 'Gateway' && (o.metadata as Obj).name === 'edge'
          ? {
              ...o,
              spec: {
                ...(o.spec as Obj),
                listeners: [
                  listener('*.corp.example'),
                  { ...listener('*.corp.example'), name: 'alt', port: PORT + 1 },
                ],
              },
            }
          : o,
      );
      write(objects);
      const programmed = await eventually(
        async () => {
          const s = await statuses(running.adminPort);
          const c = s.resources
            .find((r) => r.kind === 'Gateway' && r.name === 'edge')!
            .status.conditions!.find((x) => x.type === 'Programmed')!;
          return c.status === 'False' && c.reason === 'Invalid' ? c : undefined;
        },
        'edge Programmed=False',
        30_000,
      );
      expect(programmed.message).toMatch(
        /^gateway local\/infra\/edge#(dmz|internal) \(shard (dmz|internal)\) rejected the configuration: Listener http-18081: cannot listen on 127\.0\.30\.\d+ port 18081: EADDRINUSE$/,
      );
      expect(programmed.message).toContain('(shard dmz)');
      // The other Gateways are untouched, and the DMZ gateway keeps its last good configuration.
      const s = await statuses(running.adminPort);
      for (const name of ['payments', 'shared']) {
        expect(
          s.resources
            .find((r) => r.kind === 'Gateway' && r.name === name)!
            .status.conditions!.find((c) => c.type === 'Programmed')!.status,
        ).toBe('True');
      }
      expect(JSON.parse((await get('infra/edge#dmz', 'api.corp.example')).body).pod).toBe('public');
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });

  it('keeps the other gateways serving when one service’s dedicated gateway stops', async () => {
    const f = await fleetState(running.adminPort);
    const payments = f.nodeGroups.find((g) => g.name === 'infra/payments') as unknown as {
      process?: { pid: number };
    };
    process.kill(payments.process!.pid, 'SIGKILL');
    // While it is down (it is restarted by the runner), the others answer.
    expect(JSON.parse((await get('infra/shared', 'shop.example')).body).pod).toBe('shared');
    expect(JSON.parse((await get('infra/edge#internal', 'admin.corp.example')).body).pod).toBe(
      'internal',
    );
    // The runner restarts it and it is whole again.
    await eventually(
      async () => {
        try {
          const r = await get('infra/payments', 'pay.example');
          return r.status === 200 ? true : undefined;
        } catch {
          return undefined;
        }
      },
      'payments to come back',
      30_000,
    );
  });
});
