// A gateway that loses the controller keeps serving: the xDS server is closed
// while a load loop sends requests through the gateway, and not one fails.
// A new server on the same port (a restarted controller: empty cache filled
// again) gets the gateway back within the bounded back-off; with incremental
// xDS the gateway's initial_resource_versions mean an unchanged configuration
// is not sent again at all, and a changed one only in what changed. Then the
// update is served. Still no failed request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoBackend, freePort, type EchoBackend } from '../support/backends.js';
import { ControlPlane, eventually, GatewayProcess } from '../support/gateway-harness.js';
import { httpGet } from '../support/http.js';
import {
  appObjects,
  appliedNode,
  HOST,
  resourceBytesByType,
  responsesByType,
  type AppConfig,
} from '../support/lifecycle.js';
import { startLoad } from '../support/load.js';

type Mode = 'delta' | 'sotw';

describe.each<Mode>(['delta', 'sotw'])('controller loss (%s)', (mode) => {
  const cp = new ControlPlane();
  const name = `loss-${mode}`;
  const group = `default/${name}`;
  const nodeId = `loss-${mode}-1`;
  let a: EchoBackend;
  let b: EchoBackend;
  let gw: GatewayProcess;
  let base: AppConfig;

  beforeAll(async () => {
    [a, b] = [await echoBackend('a'), await echoBackend('b')];
    base = { name, port: await freePort(), backendPort: a.port, bBackendPort: b.port };
    await cp.start(appObjects(base));
    gw = new GatewayProcess([
      '--xds',
      `127.0.0.1:${cp.port}`,
      '--fleet',
      group,
      '--node-id',
      nodeId,
      ...(mode === 'sotw' ? ['--sotw'] : []),
    ]);
    await gw.ready();
    await eventually(
      () => appliedNode(cp.server, nodeId, cp.cache.get(group)!.version),
      'the first ACKs',
    );
  });

  afterAll(async () => {
    await gw?.stop('SIGKILL');
    await cp.close();
    await Promise.all([a.close(), b.close()]);
  });

  const reconnectLogs = () => gw.logs.filter((l) => l.msg === 'xDS stream broken; reconnecting');

  /** Closes the controller and waits until the gateway has retried a few times while serving. */
  async function loseController(load: ReturnType<typeof startLoad>): Promise<void> {
    const before = reconnectLogs().length;
    await cp.close();
    await eventually(() => reconnectLogs().length >= before + 3, 'three reconnection attempts');
    const sent = load.sent();
    await eventually(() => load.sent() >= sent + 20, 'requests while the controller is down');
    const stats = (await gw.admin('/stats')).body;
    expect(stats).toMatch(/^gatefleet_gateway_xds_connected 0$/m);
    const reconnects = Number(/^gatefleet_gateway_xds_reconnects_total (\d+)/m.exec(stats)?.[1]);
    expect(reconnects).toBeGreaterThanOrEqual(3);
  }

  it('serves through a controller restart with the same configuration, resent only in state of the world', async () => {
    const load = startLoad(base.port, '/x', HOST);
    try {
      await loseController(load);
      const t0 = Date.now();
      await cp.restart(appObjects(base));
      const version = cp.cache.get(group)!.version;
      await eventually(() => appliedNode(cp.server, nodeId, version), 'the gateway to resync');
      const reconnectMs = Date.now() - t0;
      // Back-off is bounded (base 250 ms, max 5 s, full jitter): reconnecting
      // takes at most one max delay plus connection set-up.
      expect(reconnectMs).toBeLessThan(8_000);
      for (const l of reconnectLogs()) expect(l.delayMs).toBeLessThanOrEqual(5_000);
      const sent = await responsesByType(cp.server);
      if (mode === 'delta') {
        // initial_resource_versions matched everything: nothing is sent
        // again, but for the one empty answer that tells the gateway the
        // (empty) Secret type has nothing in it.
        expect(sent).toEqual({ Secret: 1 });
        expect(await resourceBytesByType(cp.server)).toEqual({});
      } else {
        // State of the world has no such thing: every type is sent again.
        expect(Object.keys(sent).sort()).toEqual([
          'Cluster',
          'ClusterLoadAssignment',
          'Listener',
          'RouteConfiguration',
          'Secret',
        ]);
      }
      expect((await httpGet(base.port, '/x', HOST)).status).toBe(200);
    } finally {
      const result = await load.stop();
      expect(result.failures).toEqual([]);
      expect(result.ok).toBeGreaterThan(20);
    }
  });

  it('serves through a controller restart with an updated configuration, sent only as changes in delta', async () => {
    const load = startLoad(base.port, '/x', HOST);
    try {
      await loseController(load);
      await cp.restart(appObjects({ ...base, extraPrefixes: ['/b'] }));
      const version = cp.cache.get(group)!.version;
      await eventually(() => appliedNode(cp.server, nodeId, version), 'the update to be applied');
      const r = await httpGet(base.port, '/b/1', HOST);
      expect((JSON.parse(r.body) as { pod: string }).pod).toBe('b');
      const sent = await responsesByType(cp.server);
      if (mode === 'delta') {
        // A new route (RDS) to a new cluster (CDS, EDS); the Listener did not change.
        expect(sent.Listener).toBeUndefined();
        expect(sent.Secret ?? 0).toBeLessThanOrEqual(1); // at most the empty answer
        expect((await resourceBytesByType(cp.server)).Secret).toBeUndefined();
        expect(sent.RouteConfiguration).toBe(1);
        expect(sent.Cluster).toBe(1);
      } else {
        expect(sent.Listener).toBeGreaterThanOrEqual(1);
      }
    } finally {
      const result = await load.stop();
      expect(result.failures).toEqual([]);
    }
  });
});
