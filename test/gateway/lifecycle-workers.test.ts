// Worker-per-core mode (`--workers 2`, node:cluster): two workers, each its
// own xDS node, serve the same listeners; the primary's admin listener
// reports them together; a worker that dies is replaced; SIGTERM drains both
// (the request in flight completes) and the primary exits 0.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoBackend, freePort, type EchoBackend } from '../support/backends.js';
import { ControlPlane, eventually, GatewayProcess } from '../support/gateway-harness.js';
import { httpGet } from '../support/http.js';
import { appObjects, appliedNode, HOST, type AppConfig } from '../support/lifecycle.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('gateway --workers 2', () => {
  const cp = new ControlPlane();
  const group = 'default/workers';
  let a: EchoBackend;
  let base: AppConfig;
  let gw: GatewayProcess;
  const workerPids = () =>
    gw.logs.filter((l) => l.msg === 'worker started').map((l) => l.pid as number);
  const version = () => cp.cache.get(group)!.version;

  beforeAll(async () => {
    a = await echoBackend('a');
    base = { name: 'workers', port: await freePort(), backendPort: a.port };
    await cp.start(appObjects(base));
    gw = new GatewayProcess([
      '--xds',
      `127.0.0.1:${cp.port}`,
      '--fleet',
      group,
      '--node-id',
      'wk',
      '--workers',
      '2',
    ]);
    await gw.ready(20_000);
  });

  afterAll(async () => {
    await gw?.stop('SIGKILL');
    for (const pid of workerPids()) if (alive(pid)) process.kill(pid, 'SIGKILL');
    await cp.close();
    await a.close();
  });

  it('runs two workers, each a node of the xDS server, serving the same listener', async () => {
    for (const id of ['wk/worker-0', 'wk/worker-1']) {
      const n = await eventually(() => appliedNode(cp.server, id, version()), `${id} ACKs`);
      expect(n.nodeGroup).toBe(group);
    }
    expect(new Set(workerPids()).size).toBe(2);
    expect(workerPids()).not.toContain(gw.pid);
    const statuses = await Promise.all(
      Array.from({ length: 40 }, () => httpGet(base.port, '/x', HOST).then((r) => r.status)),
    );
    expect(statuses.every((s) => s === 200)).toBe(true);

    const dump = JSON.parse((await gw.admin('/config_dump')).body) as {
      workers: { worker: number; ready: boolean; node: { id: string } }[];
    };
    expect(dump.workers.map((w) => [w.worker, w.node.id, w.ready])).toEqual([
      [0, 'wk/worker-0', true],
      [1, 'wk/worker-1', true],
    ]);
    // /stats sums the workers' metrics.
    const stats = (await gw.admin('/stats')).body;
    const served = Number(
      /^gatefleet_gateway_requests_total\{code_class="2xx"\} (\d+)/m.exec(stats)?.[1],
    );
    expect(served).toBeGreaterThanOrEqual(40);
    expect(stats).toMatch(/^gatefleet_gateway_xds_connected 2$/m);
  });

  it('replaces a worker that dies', async () => {
    const [first] = workerPids();
    process.kill(first!, 'SIGKILL');
    await eventually(() => workerPids().length === 3, 'a new worker', 15_000);
    await eventually(
      () =>
        appliedNode(cp.server, 'wk/worker-0', version()) &&
        appliedNode(cp.server, 'wk/worker-1', version()),
      'both workers configured again',
    );
    await gw.ready();
    expect((await httpGet(base.port, '/x', HOST)).status).toBe(200);
  });

  it('drains both workers on SIGTERM and the primary exits 0', async () => {
    const slow = httpGet(base.port, '/slow?delayMs=2000', HOST);
    await eventually(
      () => a.requests.some((r) => r.path.startsWith('/slow')),
      'the slow request at the backend',
    );
    gw.child.kill('SIGTERM');
    await eventually(async () => (await gw.admin('/ready')).status === 503, '/ready to answer 503');
    expect((await slow).status).toBe(200);
    const { code } = await gw.exited;
    expect(code).toBe(0);
    const live = workerPids().filter(alive);
    expect(live).toEqual([]);
    expect(gw.logs.filter((l) => l.msg === 'drained')).toHaveLength(2);
  });
});
