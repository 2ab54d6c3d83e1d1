// Worker-per-core mode (node:cluster). Each worker is a whole gateway with
// its own xDS stream (its own node, `<node-id>/worker-<i>`); the listening
// sockets are shared through the primary, which accepts and hands connections
// to the workers that listen. The primary runs no proxy: it supervises
// (respawns a worker that dies, passes SIGTERM on, exits when every worker
// has drained) and serves the admin listener from its workers' state:
// /ready is 200 when every worker has applied a complete configuration,
// /config_dump lists every worker's, /stats sums their metrics.
import cluster, { type Worker } from 'node:cluster';
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { AggregatorRegistry } from 'prom-client';
import { startAdmin } from './admin/server.js';
import type { Gateway } from './gateway.js';

/** Worker → primary: readiness changed. */
interface StateMessage {
  gatefleet: 'state';
  ready: boolean;
}

/** Primary → worker: send your config dump; worker → primary: here it is. */
interface DumpMessage {
  gatefleet: 'dump';
  id: number;
  dump?: unknown;
}

type Message = StateMessage | DumpMessage;

function isMessage(m: unknown): m is Message {
  return typeof m === 'object' && m !== null && 'gatefleet' in m;
}

export interface SupervisorOptions {
  workers: number;
  adminAddress: string;
  adminPort: number;
  /** How long workers may drain; after this plus a margin they are killed. */
  drainMs: number;
  log: Logger;
}

export const WORKER_INDEX_ENV = 'GATEFLEET_WORKER_INDEX';

/** Runs in the primary; resolves once the admin listener is up and the workers are forked. */
export async function superviseWorkers(o: SupervisorOptions): Promise<void> {
  const byIndex = new Map<number, { worker: Worker; ready: boolean }>();
  const aggregator = new AggregatorRegistry();
  let draining = false;
  let failures = 0;
  let dumpId = 0;
  const pendingDumps = new Map<number, { want: number; got: unknown[]; done: () => void }>();

  const fork = (index: number) => {
    const worker = cluster.fork({ [WORKER_INDEX_ENV]: String(index) });
    byIndex.set(index, { worker, ready: false });
    worker.on('message', (m: unknown) => {
      if (!isMessage(m)) return;
      if (m.gatefleet === 'state') {
        const entry = byIndex.get(index);
        if (entry?.worker === worker) entry.ready = m.ready;
      } else {
        const p = pendingDumps.get(m.id);
        if (!p) return;
        p.got.push({ worker: index, ...(m.dump as object) });
        if (p.got.length === p.want) p.done();
      }
    });
    worker.on('exit', (code, signal) => {
      if (byIndex.get(index)?.worker === worker) byIndex.delete(index);
      if (draining) {
        if (code !== 0) failures++;
        if (byIndex.size === 0) finish();
        return;
      }
      // A worker that dies on its own is replaced; the others keep serving.
      o.log.warn({ worker: index, code, signal }, 'worker exited; starting a new one');
      setTimeout(() => {
        if (!draining) fork(index);
      }, 500).unref();
    });
  };

  const configDump = () =>
    new Promise<unknown>((resolve) => {
      const id = ++dumpId;
      const live = [...byIndex.values()].filter((w) => w.worker.isConnected());
      const p = { want: live.length, got: [] as unknown[], done: () => {} };
      const timer = setTimeout(() => p.done(), 5_000);
      p.done = () => {
        clearTimeout(timer);
        pendingDumps.delete(id);
        resolve({
          workers: (p.got as { worker: number }[]).sort((a, b) => a.worker - b.worker),
        });
      };
      pendingDumps.set(id, p);
      if (live.length === 0) return p.done();
      for (const w of live) w.worker.send({ gatefleet: 'dump', id } satisfies DumpMessage);
    });

  const admin: Server = await startAdmin(o.adminAddress, o.adminPort, {
    ready: () =>
      byIndex.size === o.workers && [...byIndex.values()].every((w) => w.ready) && !draining,
    draining: () => draining,
    configDump,
    stats: async () => ({
      contentType: aggregator.contentType,
      body: await aggregator.clusterMetrics(),
    }),
  });

  const finish = () => {
    admin.close(() => process.exit(failures === 0 ? 0 : 1));
  };
  const stop = (signal: string) => {
    if (draining) return;
    draining = true;
    o.log.info({ signal, workers: byIndex.size }, 'draining workers');
    if (byIndex.size === 0) return finish();
    for (const { worker } of byIndex.values()) worker.process.kill('SIGTERM');
    // Workers drain for at most drainMs; one that hangs beyond is killed.
    setTimeout(() => {
      for (const { worker } of byIndex.values()) worker.process.kill('SIGKILL');
    }, o.drainMs + 5_000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  for (let i = 0; i < o.workers; i++) fork(i);
  const port = (admin.address() as { port: number }).port;
  o.log.info({ workers: o.workers, adminPort: port }, 'gateway started');
}

/** Runs in a worker: reports readiness, answers dump requests, exposes metrics to the primary. */
export function serveWorker(gw: Gateway, stop: (why: string) => void): () => void {
  AggregatorRegistry.setRegistries([gw.metrics.registry]);
  new AggregatorRegistry(); // installs the worker's side of metrics aggregation
  process.on('message', (m: unknown) => {
    if (isMessage(m) && m.gatefleet === 'dump') {
      process.send?.({ gatefleet: 'dump', id: m.id, dump: gw.configDump() } satisfies DumpMessage);
    }
  });
  // Without the primary nobody hands this worker connections: drain and go.
  process.on('disconnect', () => stop('primary gone'));
  return () => {
    if (process.connected)
      process.send?.({ gatefleet: 'state', ready: gw.isReady() } satisfies StateMessage);
  };
}
