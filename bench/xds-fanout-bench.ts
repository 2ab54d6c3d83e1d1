// xDS fan-out benchmark: 5,000 HTTPRoutes over 20 Gateways (20 node groups)
// are translated, published into a SnapshotCache and served by an XdsServer
// in this process; 1, 100 and 500 simulated gateways (bench/xds-fanout-client.ts,
// a forked process, so this process's CPU is the server's alone) connect over
// loopback, spread evenly over the node groups, in state-of-the-world and in
// delta mode. Once every client has ACKed its initial configuration, a change
// is translated and published; t0 is taken just before publishIR(), and each
// client records when it sends the ACK of the last response the change caused.
// Both processes read the same wall clock (performance.timeOrigin +
// performance.now()), so ACK time − t0 is the latency of the change.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { inputsOf, translate, TranslationMemo } from '../controller/translator/index.js';
import type { IR } from '../controller/ir/types.js';
import { SnapshotCache } from '../xds/cache.js';
import { publishIR } from '../xds/publish.js';
import { XdsServer } from '../xds/server/ads-server.js';
import { generateCluster, routeObjects } from './fixtures.js';
import { fmt, median, percentile, table } from './stats.js';
import type { ClientCommand, ClientEvent, ClientStats, Mode } from './xds-fanout-client.js';

const NOW = '2026-01-01T00:00:00Z';
const ROUTES = 5_000;
const NAMESPACES = 100;
const GATEWAYS = 20;
const GROUPS = Array.from({ length: GATEWAYS }, (_, g) => `infra/gw-${g}`);
// GATEFLEET_BENCH_XDS_MODES=delta GATEFLEET_BENCH_XDS_CLIENTS=500 narrow a run (profiling).
const MODES = (process.env.GATEFLEET_BENCH_XDS_MODES ?? 'sotw,delta').split(',') as Mode[];
const CLIENTS = (process.env.GATEFLEET_BENCH_XDS_CLIENTS ?? '1,100,500').split(',').map(Number);
const REPEATS = 3;
/** Longest wait for every client to hold the current configuration. */
const SYNC_TIMEOUT_MS = 120_000;
/** Quiet period after the last ACK, to see that nothing else arrives. */
const SETTLE_MS = 50;

const wallMs = () => performance.timeOrigin + performance.now();

/** The changes applied, each REPEATS times (to different objects). */
const ALL_CHANGES = [
  { kind: 'route', label: 'one HTTPRoute (1 node group)' },
  { kind: 'route-per-gw', label: 'one HTTPRoute on each Gateway (20 node groups)' },
  { kind: 'endpoints-per-gw', label: 'one EndpointSlice on each Gateway (20 node groups)' },
] as const;
type ChangeKind = (typeof ALL_CHANGES)[number]['kind'];
// GATEFLEET_BENCH_XDS_CHANGES=route-per-gw keeps only some changes (profiling).
const CHANGES = ALL_CHANGES.filter((c) =>
  (process.env.GATEFLEET_BENCH_XDS_CHANGES ?? c.kind).split(',').includes(c.kind),
);

export interface XdsFanoutRow {
  change: ChangeKind;
  mode: Mode;
  clients: number;
  /** Medians over REPEATS runs from here on. */
  nodeGroupsChanged: number;
  clientsUpdated: number;
  responsesPerUpdatedClient: number;
  resourcesPerUpdatedClient: number;
  /** Encoded response messages, as the clients received them. */
  bytesPerUpdatedClient: number;
  /** The same push by the server's counters (gatefleet_xds_response_bytes_total: resource bytes only). */
  serverResourceBytesPerUpdatedClient: number;
  ackP50Ms: number;
  ackP99Ms: number;
  ackMaxMs: number;
  /** Part of the latency spent in publishIR before the cache notified the streams (snapshot build). */
  snapshotBuildMs: number;
  /**
   * Time the streams' snapshot handlers took, synchronously inside publishIR():
   * what the server does before any response can leave (plans, diffs, serialization).
   */
  streamsNotifiedMs: number;
  /** ACK p99 counted from the cache notifying the streams (the ADS fan-out alone). */
  fanoutP99Ms: number;
  /** Server process CPU from t0 until every client ACKed (includes the snapshot build). */
  serverCpuMs: number;
  /** CPU of the simulated clients' process over the same push. */
  clientCpuMs: number;
  /** Time for every client to receive and ACK its initial configuration (once per mode and size). */
  initialSyncMs: number;
  runs: number;
}

/** The cluster and the edits applied to it. */
class Cluster {
  private readonly objects: Record<string, unknown>[];
  private readonly index = new Map<string, number>();
  private variant = 0;
  readonly cache = new SnapshotCache();
  /** Wall-clock ms at which the cache last started notifying its watchers. */
  publishedAt = 0;

  constructor() {
    this.objects = generateCluster({ routes: ROUTES, namespaces: NAMESPACES, gateways: GATEWAYS });
    this.objects.forEach((o, i) => this.index.set(key(o), i));
    // Instrumentation only: when publishIR() hands the new snapshots to the
    // cache, the streams are notified synchronously; the time before that
    // is spent building and encoding snapshots.
    const publish = this.cache.publish.bind(this.cache);
    this.cache.publish = (next) => {
      this.publishedAt = wallMs();
      return publish(next);
    };
  }

  /** Carried from translation to translation, as the controller does. */
  private readonly memo = new TranslationMemo();

  translate(): IR {
    return translate(inputsOf(this.objects), { now: NOW, memo: this.memo }).ir;
  }

  /** Edits the objects for change `kind`, repeat `r`; returns the IR to publish. */
  change(kind: ChangeKind, r: number): IR {
    const v = ++this.variant;
    if (kind === 'route') {
      this.editRoute(GATEWAYS * r, v); // routes 0, 20, 40 are on gw-0
    } else if (kind === 'route-per-gw') {
      for (let g = 0; g < GATEWAYS; g++) this.editRoute(GATEWAYS * (10 + r) + g, v);
    } else {
      for (let g = 0; g < GATEWAYS; g++) this.editEndpoints(GATEWAYS * (20 + r) + g, v);
    }
    return this.translate();
  }

  /** A different header value in the route's first match: its route configurations change. */
  private editRoute(i: number, variant: number): void {
    const [route] = routeObjects(i, NAMESPACES, GATEWAYS, variant);
    this.objects[this.at(key(route!))] = route!;
  }

  /** The third endpoint of the route's Service moves: two ClusterLoadAssignments change. */
  private editEndpoints(i: number, variant: number): void {
    const slice = routeObjects(i, NAMESPACES, GATEWAYS)[2]!;
    const endpoints = slice.endpoints as { addresses: string[] }[];
    endpoints[2]!.addresses = [`10.255.${variant % 250}.${(i % 250) + 1}`];
    this.objects[this.at(key(slice))] = slice;
  }

  private at(k: string): number {
    const i = this.index.get(k);
    if (i === undefined) throw new Error(`no object ${k}`);
    return i;
  }
}

function key(o: Record<string, unknown>): string {
  const m = o.metadata as { name: string; namespace?: string };
  return `${o.kind as string}/${m.namespace ?? ''}/${m.name}`;
}

/** The forked client process, with request/answer over IPC. */
class ClientProcess {
  private readonly child: ChildProcess;
  private waiting?: {
    ev: ClientEvent['ev'];
    resolve: (e: ClientEvent) => void;
    reject: (e: Error) => void;
  };
  private failure?: Error;
  private readonly readyPromise: Promise<void>;
  private onReady?: () => void;

  constructor() {
    this.readyPromise = new Promise<void>((resolve) => (this.onReady = resolve));
    const script = fileURLToPath(new URL('./xds-fanout-client.js', import.meta.url));
    this.child = fork(script, [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (e: ClientEvent) => {
      if (e.ev === 'error') return this.fail(new Error(`simulated client: ${e.message}`));
      if (e.ev === 'ready') return this.onReady?.();
      if (this.waiting?.ev === e.ev) {
        const w = this.waiting;
        this.waiting = undefined;
        w.resolve(e);
      }
    });
    this.child.on('exit', (code) => {
      if (code !== 0) this.fail(new Error(`client process exited with ${code}`));
    });
  }

  private fail(e: Error): void {
    this.failure ??= e;
    const w = this.waiting;
    this.waiting = undefined;
    w?.reject(e);
  }

  async ask<E extends ClientEvent['ev']>(
    cmd: ClientCommand,
    ev: E,
  ): Promise<Extract<ClientEvent, { ev: E }>> {
    if (this.failure) throw this.failure;
    const answer = new Promise<ClientEvent>((resolve, reject) => {
      this.waiting = { ev, resolve, reject };
    });
    this.child.send(cmd);
    return (await answer) as Extract<ClientEvent, { ev: E }>;
  }

  async ready(): Promise<void> {
    await Promise.race([
      this.readyPromise,
      new Promise((_, reject) => {
        this.waiting = { ev: 'ready', resolve: () => {}, reject };
      }),
    ]);
    this.waiting = undefined;
  }

  check(): void {
    if (this.failure) throw this.failure;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.send({ cmd: 'stop' } satisfies ClientCommand);
    const timer = setTimeout(() => this.child.kill(), 5_000);
    await exited;
    clearTimeout(timer);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves once every client holds and has ACKed its group's current snapshot. */
async function allApplied(
  server: XdsServer,
  cache: SnapshotCache,
  ids: string[],
  clients: ClientProcess,
): Promise<number> {
  const deadline = Date.now() + SYNC_TIMEOUT_MS;
  for (;;) {
    let done = true;
    for (const id of ids) {
      const n = server.nodes.get(id);
      if (
        !n ||
        n.appliedVersion === undefined ||
        n.appliedVersion !== cache.get(n.nodeGroup)?.version
      ) {
        done = false;
        break;
      }
    }
    if (done) return wallMs();
    clients.check();
    if (Date.now() > deadline) throw new Error(`clients did not ACK within ${SYNC_TIMEOUT_MS} ms`);
    await sleep(1);
  }
}

async function counterSum(
  server: XdsServer,
  which: 'responses' | 'responseBytes',
): Promise<number> {
  const m = await server.metrics[which].get();
  return m.values.reduce((a, v) => a + v.value, 0);
}

const cpuMs = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1000;

interface Run {
  groupsChanged: number;
  updated: number;
  responses: number;
  resources: number;
  bytes: number;
  serverBytes: number;
  p50: number;
  p99: number;
  max: number;
  build: number;
  queued: number;
  fanoutP99: number;
  serverCpu: number;
  clientCpu: number;
}

async function measureChange(
  cluster: Cluster,
  server: XdsServer,
  clients: ClientProcess,
  ids: string[],
  kind: ChangeKind,
  r: number,
): Promise<Run> {
  const ir = cluster.change(kind, r);
  (globalThis as { gc?: () => void }).gc?.();
  await clients.ask({ cmd: 'mark' }, 'marked');
  const bytes0 = await counterSum(server, 'responseBytes');
  const cpu0 = process.cpuUsage();
  const t0 = wallMs();
  const published = publishIR(ir, cluster.cache);
  const returned = wallMs();
  await allApplied(server, cluster.cache, ids, clients);
  const serverCpu = cpuMs(process.cpuUsage(cpu0));
  if (published.rejected.length > 0) throw new Error(JSON.stringify(published.rejected));
  await sleep(SETTLE_MS);
  const report = await clients.ask({ cmd: 'report' }, 'report');
  const serverBytes = (await counterSum(server, 'responseBytes')) - bytes0;
  const updated = report.stats.filter((s: ClientStats) => s.responses > 0);
  const changed = new Set(published.changed);
  const stale = updated.filter((s) => !changed.has(s.group) || s.lastAckAt === 0);
  if (stale.length > 0) throw new Error(`unexpected pushes: ${JSON.stringify(stale[0])}`);
  const expected = report.stats.filter((s) => changed.has(s.group)).length;
  if (updated.length !== expected)
    throw new Error(`${expected - updated.length} clients missed the change`);
  const lat = updated.map((s) => s.lastAckAt - t0);
  const fan = updated.map((s) => s.lastAckAt - cluster.publishedAt);
  const per = (f: (s: ClientStats) => number) =>
    updated.reduce((a, s) => a + f(s), 0) / updated.length;
  return {
    groupsChanged: published.changed.length,
    updated: updated.length,
    responses: per((s) => s.responses),
    resources: per((s) => s.resources),
    bytes: per((s) => s.bytes),
    serverBytes: serverBytes / updated.length,
    p50: percentile(lat, 50),
    p99: percentile(lat, 99),
    max: Math.max(...lat),
    build: cluster.publishedAt - t0,
    queued: returned - cluster.publishedAt,
    fanoutP99: percentile(fan, 99),
    serverCpu,
    clientCpu: report.cpuMs,
  };
}

async function benchScenario(cluster: Cluster, mode: Mode, n: number): Promise<XdsFanoutRow[]> {
  const server = new XdsServer({ cache: cluster.cache });
  const port = await server.listen('127.0.0.1:0');
  const clients = new ClientProcess();
  const idPrefix = `${mode}-${n}`;
  const ids = Array.from({ length: n }, (_, i) => `${idPrefix}-${i}`);
  try {
    await clients.ready();
    const t = wallMs();
    await clients.ask(
      { cmd: 'start', port, mode, clients: n, groups: GROUPS, idPrefix },
      'started',
    );
    const initialSyncMs = (await allApplied(server, cluster.cache, ids, clients)) - t;
    await sleep(200);
    const rows: XdsFanoutRow[] = [];
    for (const { kind } of CHANGES) {
      const runs: Run[] = [];
      for (let r = 0; r < REPEATS; r++)
        runs.push(await measureChange(cluster, server, clients, ids, kind, r));
      const med = (f: (x: Run) => number) => median(runs.map(f));
      rows.push({
        change: kind,
        mode,
        clients: n,
        nodeGroupsChanged: med((x) => x.groupsChanged),
        clientsUpdated: med((x) => x.updated),
        responsesPerUpdatedClient: med((x) => x.responses),
        resourcesPerUpdatedClient: med((x) => x.resources),
        bytesPerUpdatedClient: med((x) => x.bytes),
        serverResourceBytesPerUpdatedClient: med((x) => x.serverBytes),
        ackP50Ms: med((x) => x.p50),
        ackP99Ms: med((x) => x.p99),
        ackMaxMs: med((x) => x.max),
        snapshotBuildMs: med((x) => x.build),
        streamsNotifiedMs: med((x) => x.queued),
        fanoutP99Ms: med((x) => x.fanoutP99),
        serverCpuMs: med((x) => x.serverCpu),
        clientCpuMs: med((x) => x.clientCpu),
        initialSyncMs,
        runs: runs.length,
      });
      const row = rows[rows.length - 1]!;
      process.stderr.write(
        `xds ${mode} ${n} clients, ${kind}: ACK p99 ${fmt(row.ackP99Ms)} ms ` +
          `(build ${fmt(row.snapshotBuildMs)} ms, streams notified in ${fmt(row.streamsNotifiedMs)} ms, ` +
          `fan-out p99 ${fmt(row.fanoutP99Ms)} ms), ` +
          `server CPU ${fmt(row.serverCpuMs)} ms\n`,
      );
    }
    return rows;
  } finally {
    await clients.stop();
    await server.close();
  }
}

function kb(bytes: number): string {
  return bytes >= 1024 ? `${fmt(bytes / 1024)} KiB` : `${fmt(bytes, 0)} B`;
}

export async function runXdsFanoutBench(): Promise<{ rows: XdsFanoutRow[]; markdown: string }> {
  const cluster = new Cluster();
  const first = publishIR(cluster.translate(), cluster.cache);
  if (first.rejected.length > 0) throw new Error(JSON.stringify(first.rejected));
  const rows: XdsFanoutRow[] = [];
  for (const mode of MODES) {
    for (const n of CLIENTS) {
      rows.push(...(await benchScenario(cluster, mode, n)));
    }
  }
  const order = new Map(CHANGES.map((c, i) => [c.kind, i]));
  rows.sort(
    (a, b) =>
      order.get(a.change)! - order.get(b.change)! ||
      MODES.indexOf(a.mode) - MODES.indexOf(b.mode) ||
      a.clients - b.clients,
  );
  const markdown = table(
    [
      'change',
      'mode',
      'clients',
      'clients updated',
      'resources per updated client',
      'bytes per updated client',
      'ACK p50 (ms)',
      'ACK p99 (ms)',
      'ACK max (ms)',
      'of which snapshot build (ms)',
      'fan-out p99 after build (ms)',
      'server CPU (ms)',
      'clients CPU (ms)',
    ],
    rows.map((r) => [
      ALL_CHANGES.find((c) => c.kind === r.change)!.label,
      r.mode === 'sotw' ? 'state of the world' : 'delta',
      r.clients,
      r.clientsUpdated,
      fmt(r.resourcesPerUpdatedClient, 0),
      kb(r.bytesPerUpdatedClient),
      fmt(r.ackP50Ms),
      fmt(r.ackP99Ms),
      fmt(r.ackMaxMs),
      fmt(r.snapshotBuildMs),
      fmt(r.fanoutP99Ms),
      fmt(r.serverCpuMs, 0),
      fmt(r.clientCpuMs, 0),
    ]),
  );
  return { rows, markdown };
}
