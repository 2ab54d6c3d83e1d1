// `gatefleet gateway` as an operator starts it: flags and GATEFLEET_*
// variables, usage errors (exit 2, GF_USAGE, naming the flag), and the admin
// listener: /ready 503 while the controller has published nothing, 200 once
// the first complete configuration is applied; /healthz; /config_dump with
// versions and private keys redacted; /stats in Prometheus text.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TypeUrl } from '../../xds/proto/root.js';
import { echoBackend, freePort, type EchoBackend } from '../support/backends.js';
import { makePki, type TestPki } from '../support/certs.js';
import {
  ControlPlane,
  eventually,
  GatewayProcess,
  runGatewayCli,
} from '../support/gateway-harness.js';
import { httpGet } from '../support/http.js';
import { appObjects, appliedNode, HOST } from '../support/lifecycle.js';

describe('gatefleet gateway usage errors', () => {
  const cases: [string, string[], Record<string, string>, string][] = [
    ['no --xds', ['--fleet', 'default/gw'], {}, '--xds (or GATEFLEET_XDS) is required'],
    ['no --fleet', ['--xds', '127.0.0.1:1'], {}, '--fleet (or GATEFLEET_FLEET) is required'],
    ['--xds not host:port', ['--xds', 'nowhere', '--fleet', 'f'], {}, '--xds: "nowhere"'],
    ['GATEFLEET_XDS not host:port', ['--fleet', 'f'], { GATEFLEET_XDS: 'a:b' }, 'GATEFLEET_XDS:'],
    ['--admin not host:port', ['--xds', 'h:1', '--fleet', 'f', '--admin', '80'], {}, '--admin:'],
    ['--workers 0', ['--xds', 'h:1', '--fleet', 'f', '--workers', '0'], {}, '--workers: "0"'],
    [
      'GATEFLEET_WORKERS',
      ['--xds', 'h:1', '--fleet', 'f'],
      { GATEFLEET_WORKERS: 'x' },
      'GATEFLEET_WORKERS:',
    ],
    [
      '--drain-seconds',
      ['--xds', 'h:1', '--fleet', 'f', '--drain-seconds', 'soon'],
      {},
      '--drain-seconds:',
    ],
    [
      'GATEFLEET_SOTW',
      ['--xds', 'h:1', '--fleet', 'f'],
      { GATEFLEET_SOTW: 'maybe' },
      'GATEFLEET_SOTW:',
    ],
    [
      'unreadable --xds-ca',
      ['--xds', 'h:1', '--fleet', 'f', '--xds-ca', '/nonexistent/ca.pem'],
      {},
      '--xds-ca: cannot read /nonexistent/ca.pem: ENOENT',
    ],
    [
      '--xds-cert without --xds-key',
      ['--xds', 'h:1', '--fleet', 'f', '--xds-cert', '/etc/hostname'],
      {},
      '--xds-cert needs --xds-key',
    ],
    ['unknown flag', ['--xds', 'h:1', '--fleet', 'f', '--bogus'], {}, "'--bogus'"],
    ['flag without its value', ['--fleet', 'f', '--xds'], {}, "'--xds"],
    ['a positional argument', ['--xds', 'h:1', '--fleet', 'f', 'extra'], {}, "'extra'"],
  ];
  it.each(cases)('%s: exit 2 with GF_USAGE naming it', (_what, args, env, mention) => {
    const r = runGatewayCli(args, env);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^gatefleet gateway: GF_USAGE: /);
    expect(r.stderr).toContain(mention);
  });
});

describe('gatefleet gateway flags, environment and admin listener', () => {
  const cp = new ControlPlane();
  let backend: EchoBackend;
  let pki: TestPki;
  let port: number;
  let httpsPort: number;
  let port2: number;
  const gateways: GatewayProcess[] = [];
  const spawnGw = (...a: ConstructorParameters<typeof GatewayProcess>) => {
    const g = new GatewayProcess(...a);
    gateways.push(g);
    return g;
  };

  beforeAll(async () => {
    backend = await echoBackend('backend-a');
    pki = makePki();
    [port, httpsPort, port2] = [await freePort(), await freePort(), await freePort()];
    // Nothing published yet: streams are held.
    await cp.start();
  });

  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.stop('SIGKILL')));
    await cp.close();
    await backend.close();
  });

  // Two Gateways, so two fleets: default/gw (HTTP and HTTPS) and default/gw2.
  const objects = () => [
    ...appObjects({ name: 'gw2', port: port2, backendPort: backend.port }),
    ...appObjects({
      name: 'gw',
      port,
      backendPort: backend.port,
      extraListeners: [
        {
          name: 'https',
          port: httpsPort,
          protocol: 'HTTPS',
          hostname: HOST,
          tls: { mode: 'Terminate', certificateRefs: [{ name: 'app-cert' }] },
          allowedRoutes: { namespaces: { from: 'All' } },
        },
      ],
      extra: [
        {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 'app-cert', namespace: 'default' },
          type: 'kubernetes.io/tls',
          stringData: {
            'tls.crt': readFileSync(pki.serverCert, 'utf8'),
            'tls.key': readFileSync(pki.serverKey, 'utf8'),
          },
        },
      ],
    }).slice(1), // one GatewayClass
  ];

  it('is held and not ready before the controller publishes, ready once it has applied everything', async () => {
    const gw = spawnGw([
      '--xds',
      `127.0.0.1:${cp.port}`,
      '--fleet',
      'default/gw',
      '--node-id',
      'held',
    ]);
    await gw.whenStarted();
    // Connected (the server knows the node) but held: no configuration yet.
    await eventually(() => cp.server.nodes.get('held'), 'the node to connect');
    expect((await gw.admin('/ready')).status).toBe(503);
    expect((await gw.admin('/healthz')).status).toBe(200);
    const held = JSON.parse((await gw.admin('/config_dump')).body) as { ready: boolean };
    expect(held.ready).toBe(false);

    cp.publish(objects());
    await gw.ready();
    const version = cp.cache.get('default/gw')!.version;
    await eventually(() => appliedNode(cp.server, 'held', version), 'the ACKs');
    expect((await httpGet(port, '/x', HOST)).status).toBe(200);

    // /config_dump: every applied resource with the version the server sent; no private key.
    const dumpText = (await gw.admin('/config_dump')).body;
    const dump = JSON.parse(dumpText) as {
      ready: boolean;
      node: { id: string; nodeGroup: string };
      resources: Record<string, { name: string; version: string; resource: unknown }[]>;
    };
    expect(dump.ready).toBe(true);
    expect(dump.node).toEqual({ id: 'held', nodeGroup: 'default/gw' });
    const snap = cp.cache.get('default/gw')!;
    const short = (t: string) => t.split('.').pop()!;
    for (const [t, ts] of snap.types) {
      const want = [...ts.resources.values()]
        .map((r) => ({ name: r.name, version: r.version }))
        .sort((a, b) => (a.name < b.name ? -1 : 1));
      expect(dump.resources[short(t)]!.map((r) => ({ name: r.name, version: r.version }))).toEqual(
        want,
      );
    }
    expect(dump.resources.Secret).toHaveLength(1);
    expect(dumpText).toContain('<redacted>');
    expect(dumpText).not.toContain('PRIVATE KEY');
    expect(dumpText).toContain('BEGIN CERTIFICATE');

    // /stats: Prometheus text with the gateway's own metrics.
    const stats = await gw.admin('/stats');
    expect(stats.status).toBe(200);
    expect(stats.body).toMatch(/^gatefleet_gateway_requests_total\{code_class="2xx"\} [1-9]/m);
    expect(stats.body).toMatch(/^gatefleet_gateway_xds_connected 1$/m);
    expect(stats.body).toMatch(/^gatefleet_gateway_ready 1$/m);
    expect(stats.body).toMatch(/^gatefleet_gateway_listeners 2$/m);
    expect(stats.body).toContain(
      `gatefleet_gateway_xds_updates_total{type_url="${TypeUrl.Listener}",result="applied"} 1`,
    );
    expect(stats.body).toContain('process_cpu_user_seconds_total');
  });

  it('takes every setting from GATEFLEET_* variables', async () => {
    const gw = spawnGw(
      [],
      {
        GATEFLEET_XDS: `127.0.0.1:${cp.port}`,
        GATEFLEET_FLEET: 'default/gw2',
        GATEFLEET_NODE_ID: 'from-env',
        GATEFLEET_SOTW: 'true',
        GATEFLEET_ADMIN: '127.0.0.1:0',
        GATEFLEET_DRAIN_SECONDS: '1',
      },
      { admin: false },
    );
    await gw.ready();
    expect(gw.adminPort).toBeGreaterThan(0);
    const node = await eventually(
      () => appliedNode(cp.server, 'from-env', cp.cache.get('default/gw2')!.version),
      'the ACKs',
    );
    expect(node.mode).toBe('sotw');
    expect(node.nodeGroup).toBe('default/gw2');
    expect((await httpGet(port2, '/', HOST)).status).toBe(200);
  });

  it('lets flags win over variables, and --shard names the node group', async () => {
    const gw = spawnGw(['--node-id', 'from-flag', '--shard', 'b', '--fleet', 'default/gw'], {
      GATEFLEET_XDS: `127.0.0.1:${cp.port}`,
      GATEFLEET_FLEET: 'other/fleet',
      GATEFLEET_NODE_ID: 'from-env-2',
    });
    await gw.whenStarted();
    const node = await eventually(() => cp.server.nodes.get('from-flag'), 'the node');
    expect(node.nodeGroup).toBe('default/gw#b');
    expect(node.mode).toBe('delta');
    expect(cp.server.nodes.get('from-env-2')).toBeUndefined();
    // No snapshot for that shard: held, not ready.
    expect((await gw.admin('/ready')).status).toBe(503);
  });

  it('exits 1 with a message when its admin port is taken', async () => {
    const first = gateways[0]!;
    const gw = spawnGw(
      [
        '--xds',
        `127.0.0.1:${cp.port}`,
        '--fleet',
        'default/gw',
        '--admin',
        `127.0.0.1:${first.adminPort}`,
      ],
      {},
      { admin: false },
    );
    const { code } = await gw.exited;
    expect(code).toBe(1);
    expect(gw.logs.find((l) => l.msg === 'gateway failed')?.error).toMatch(/EADDRINUSE/);
  });
});
