// Status benchmark (the "attached routes" test of howardjohn/gateway-api-bench):
// 1,000 HTTPRoutes created at once against a real kube-apiserver + etcd, with
// the production pipeline running — KubeProvider → Controller (translation,
// xDS snapshots, fleet status) → StatusWriter. Measured from the last
// create's response: the time until every route's status is correct
// (Accepted and ResolvedRefs True for its current generation) and the
// Gateway's attachedRoutes is 1,000; the status writes (the writer's count,
// and independently every watch event whose status changed); then the same
// for deleting them all (attachedRoutes back to 0).
//
// The load (creates, deletes) and the observation (two watches) run in a
// worker thread with its own event loop and connections, so neither delays
// the pipeline's event loop; they still share the machine's two cores, as
// the peers' load generator shared theirs.
import { readFileSync } from 'node:fs';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { KubeConfig, Watch } from '@kubernetes/client-node';
import { KubeProvider, type CacheChange } from '../controller/providers/kube/kube-provider.js';
import type { KubeObject } from '../controller/providers/kube/kinds.js';
import { KubeRest } from '../controller/providers/kube/rest.js';
import { Controller } from '../controller/runtime/controller.js';
import { STATUS_WRITER_DEFAULTS, StatusWriter } from '../controller/status/status-writer.js';
import { CONTROLLER_NAME } from '../controller/translator/index.js';
import { SnapshotCache } from '../xds/cache.js';
import { NodeRegistry } from '../xds/server/nodes.js';
import { startCluster, waitFor } from '../test/support/kube-cluster.js';
import { fmt, median, table } from './stats.js';

const ROUTES = 1_000;
const REPS = 3;
const GW_API = '/apis/gateway.networking.k8s.io/v1';

export interface StatusBenchRow {
  run: number;
  routes: number;
  /** First create sent → last create answered. */
  createMs: number;
  /** Last create answered → every route's status correct and attachedRoutes = routes. */
  settleMs: number;
  /** Last create answered → the Gateway's attachedRoutes = routes. */
  attachedMs: number;
  /** Successful status PATCHes (the writer's own count) while routes were created. */
  writerWrites: number;
  /** Watch events whose status differed from the previous one (routes + Gateway). */
  observedWrites: number;
  routeWrites: number;
  gatewayWrites: number;
  /** observedWrites / objects whose status changed (the routes and the Gateway). */
  writesPerChangedObject: number;
  conflicts: number;
  failures: number;
  /** Routes whose status was already correct when the last create was answered. */
  settledAtLastCreate: number;
  /** Last delete answered → attachedRoutes = 0. */
  teardownMs: number;
  gatewayWritesTeardown: number;
  apiServerCpuS: number;
}

export interface StatusBenchOptions {
  reps?: number;
  routes?: number;
  qps?: number;
  burst?: number;
  concurrency?: number;
  /** The controller's debounce (default 50 ms, as Kubernetes mode). */
  debounceMs?: number;
  /** The controller's bound on delaying a translation (default 500 ms, as Kubernetes mode). */
  maxDelayMs?: number;
}

// ---- worker: load and observation --------------------------------------------------------

interface LoadRequest {
  phase: 'create' | 'delete';
  ns: string;
  routes: number;
}

interface LoadResult {
  createMs: number;
  settleMs: number;
  attachedMs: number;
  routeWrites: number;
  gatewayWrites: number;
  settledAtLastCreate: number;
}

function routeObject(ns: string, i: number): Record<string, unknown> {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: `route-${i}`, namespace: ns },
    spec: {
      parentRefs: [{ name: 'gw' }],
      hostnames: [`route-${i}.example.com`],
      rules: [
        {
          matches: [{ path: { type: 'PathPrefix', value: `/${i}` } }],
          backendRefs: [{ name: 'svc', port: 80 }],
        },
      ],
    },
  };
}

/** Our parent entry is Accepted and ResolvedRefs for the route's current generation. */
function routeSettled(o: KubeObject): boolean {
  const p = (
    o.status as { parents?: { controllerName: string; conditions?: unknown[] }[] }
  )?.parents?.find((x) => x.controllerName === CONTROLLER_NAME);
  const conds = (p?.conditions ?? []) as {
    type: string;
    status: string;
    observedGeneration?: number;
  }[];
  const ok = (t: string) =>
    conds.some(
      (c) => c.type === t && c.status === 'True' && c.observedGeneration === o.metadata?.generation,
    );
  return ok('Accepted') && ok('ResolvedRefs');
}

function attachedRoutes(o: KubeObject): number | undefined {
  return (o.status as { listeners?: { attachedRoutes: number }[] })?.listeners?.[0]?.attachedRoutes;
}

async function loadWorker(): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromFile((workerData as { kubeconfig: string }).kubeconfig);
  const rest = new KubeRest(kc, 64);
  const watch = new Watch(kc);
  parentPort!.on('message', (req: LoadRequest) => {
    void runLoad(kc, rest, watch, req).then(
      (r) => parentPort!.postMessage({ ok: r }),
      (e: unknown) => parentPort!.postMessage({ error: String((e as Error)?.stack ?? e) }),
    );
  });
}

async function runLoad(
  _kc: KubeConfig,
  rest: KubeRest,
  watch: Watch,
  req: LoadRequest,
): Promise<LoadResult> {
  const { ns, routes } = req;
  const statusOf = new Map<string, string>();
  const settled = new Set<string>();
  let routeWrites = 0;
  let gatewayWrites = 0;
  let attached = -1;
  let lastDone = Infinity;
  let attachedAt = Infinity;
  let doneAt = Infinity;
  const want = req.phase === 'create' ? routes : 0;
  const check = () => {
    const now = performance.now();
    if (attached === want && attachedAt === Infinity && lastDone !== Infinity) attachedAt = now;
    const routesOk = req.phase === 'create' ? settled.size === routes : true;
    if (routesOk && attached === want && doneAt === Infinity && lastDone !== Infinity) doneAt = now;
  };
  const observe = (kind: 'HTTPRoute' | 'Gateway') => (type: string, o: KubeObject) => {
    const k = `${kind}/${o.metadata?.name}`;
    if (type === 'DELETED') {
      statusOf.delete(k);
      return;
    }
    const s = JSON.stringify(o.status ?? null);
    const prev = statusOf.get(k);
    statusOf.set(k, s);
    if (type === 'MODIFIED' && prev !== undefined && prev !== s) {
      if (kind === 'HTTPRoute') routeWrites++;
      else gatewayWrites++;
    }
    if (kind === 'Gateway') attached = attachedRoutes(o) ?? -1;
    else if (routeSettled(o)) settled.add(k);
    else settled.delete(k);
    check();
  };
  // Watch from the current state of the namespace. The API server closes a watch whose
  // reader falls behind a burst; it is resumed from the last resourceVersion seen, so no
  // event is missed (a 410 would mean some were: that fails the run rather than undercount).
  let stopped = false;
  let watchError: unknown;
  const aborts = new Map<string, AbortController>();
  const follow = async (plural: string, kind: 'HTTPRoute' | 'Gateway', from: string) => {
    let rv = from;
    const path = `${GW_API}/namespaces/${ns}/${plural}`;
    const onEvent = (type: string, o: KubeObject) => {
      if (o.metadata?.resourceVersion) rv = o.metadata.resourceVersion;
      if (type === 'ERROR') {
        watchError = new Error(`watch ${plural}: ${JSON.stringify(o)}`);
        return;
      }
      if (type !== 'BOOKMARK') observe(kind)(type, o);
    };
    const onDone = (e: unknown) => {
      if (stopped) return;
      if (e) watchError = e;
      else void follow(plural, kind, rv);
    };
    aborts.set(
      plural,
      await watch.watch(path, { resourceVersion: rv, allowWatchBookmarks: true }, onEvent, onDone),
    );
  };
  for (const [plural, kind] of [
    ['httproutes', 'HTTPRoute'],
    ['gateways', 'Gateway'],
  ] as const) {
    const list = await rest.get<{ items: KubeObject[]; metadata: { resourceVersion: string } }>(
      `${GW_API}/namespaces/${ns}/${plural}`,
    );
    for (const o of list.items) observe(kind)('ADDED', o);
    await follow(plural, kind, list.metadata.resourceVersion);
  }
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: routes }, (_, i) =>
      req.phase === 'create'
        ? rest.request('POST', `${GW_API}/namespaces/${ns}/httproutes`, {
            body: routeObject(ns, i),
          })
        : rest.request('DELETE', `${GW_API}/namespaces/${ns}/httproutes/route-${i}`),
    ),
  );
  lastDone = performance.now();
  const settledAtLastCreate = settled.size;
  check();
  await waitFor(
    `${req.phase} in ${ns} to settle`,
    () => (watchError !== undefined || doneAt < Infinity ? true : undefined),
    120_000,
    5,
  ).catch((e: Error) => {
    throw new Error(
      `${e.message} (routes settled: ${settled.size}/${routes}, attachedRoutes: ${attached})`,
    );
  });
  // Writes after that are superfluous, but they count: watch one quiet second more.
  await new Promise((r) => setTimeout(r, 1_000));
  stopped = true;
  for (const a of aborts.values()) a.abort();
  if (watchError) throw watchError;
  return {
    createMs: lastDone - t0,
    settleMs: Math.max(0, doneAt - lastDone),
    attachedMs: Math.max(0, attachedAt - lastDone),
    routeWrites,
    gatewayWrites,
    settledAtLastCreate,
  };
}

if (!isMainThread && (workerData as { role?: string } | null)?.role === 'status-bench-load') {
  void loadWorker();
}

// ---- main thread: cluster, pipeline, repetitions ------------------------------------------

class LoadClient {
  private readonly worker: Worker;
  constructor(kubeconfig: string) {
    this.worker = new Worker(new URL(import.meta.url), {
      workerData: { role: 'status-bench-load', kubeconfig },
    });
  }
  run(req: LoadRequest): Promise<LoadResult> {
    return new Promise((resolve, reject) => {
      this.worker.once('message', (m: { ok?: LoadResult; error?: string }) =>
        m.ok ? resolve(m.ok) : reject(new Error(m.error)),
      );
      this.worker.postMessage(req);
    });
  }
  stop(): Promise<number> {
    return this.worker.terminate();
  }
}

function cpuSeconds(dir: string, proc: string): number {
  try {
    const pid = readFileSync(`${dir}/${proc}.pid`, 'utf8').trim();
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

export async function runStatusBench(
  opts: StatusBenchOptions = {},
): Promise<{ rows: StatusBenchRow[]; markdown: string }> {
  const reps = opts.reps ?? REPS;
  const routes = opts.routes ?? ROUTES;
  const concurrency = opts.concurrency ?? STATUS_WRITER_DEFAULTS.concurrency;
  const cluster = await startCluster();
  const rows: StatusBenchRow[] = [];
  const log = (who: string) => (level: string, msg: string, fields?: unknown) => {
    if (level !== 'debug' && level !== 'info')
      process.stderr.write(`${who} ${level}: ${msg} ${JSON.stringify(fields)}\n`);
  };
  const provider = new KubeProvider(cluster.kc, { log: log('provider') });
  const writerRest = new KubeRest(cluster.kc, concurrency);
  const load = new LoadClient(cluster.kubeconfigPath);
  const nodes = new NodeRegistry();
  const controller = new Controller({
    cache: new SnapshotCache(),
    nodes,
    debounceMs: opts.debounceMs ?? 50,
    maxDelayMs: opts.maxDelayMs ?? 500,
  });
  const writer = new StatusWriter({
    rest: writerRest,
    controllerName: CONTROLLER_NAME,
    current: (k, ns, name) => provider.get(k, ns, name),
    routes: () => provider.list('HTTPRoute'),
    concurrency,
    ...(opts.qps ? { qps: opts.qps } : {}),
    ...(opts.burst ? { burst: opts.burst } : {}),
    log: (level, msg, fields) => {
      if (level !== 'debug')
        process.stderr.write(`status writer ${level}: ${msg} ${JSON.stringify(fields)}\n`);
    },
  });
  try {
    // Wired as Kubernetes mode wires it (controller/runtime/kube-runtime.ts): a burst of cache
    // events is one setInputs, and status-only changes (our own writes echoed back) none.
    let dirty = false;
    provider.onChange((c: CacheChange) => {
      if (!provider.synced() || c.statusOnly || dirty) return;
      dirty = true;
      setImmediate(() => {
        dirty = false;
        controller.setInputs(provider.inputs());
      });
    });
    controller.onStatuses((s) => writer.update(s));
    await cluster.rest.request('POST', `${GW_API}/gatewayclasses`, {
      body: {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'GatewayClass',
        metadata: { name: 'gatefleet' },
        spec: { controllerName: CONTROLLER_NAME },
      },
    });
    provider.start();
    await provider.whenSynced();
    controller.setInputs(provider.inputs());
    await controller.flush();

    for (let run = 1; run <= reps; run++) {
      const ns = `status-bench-${run}`;
      await cluster.rest.request('POST', '/api/v1/namespaces', {
        body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
      });
      await cluster.rest.request('POST', `/api/v1/namespaces/${ns}/services`, {
        body: {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: 'svc' },
          spec: { ports: [{ port: 80 }] },
        },
      });
      await cluster.rest.request('POST', `${GW_API}/namespaces/${ns}/gateways`, {
        body: {
          apiVersion: 'gateway.networking.k8s.io/v1',
          kind: 'Gateway',
          metadata: { name: 'gw' },
          spec: {
            gatewayClassName: 'gatefleet',
            listeners: [
              {
                name: 'http',
                port: 80,
                protocol: 'HTTP',
                allowedRoutes: { namespaces: { from: 'Same' } },
              },
            ],
          },
        },
      });
      await waitFor(`Gateway ${ns}/gw status written`, async () => {
        const gw = await cluster.rest.get<KubeObject>(`${GW_API}/namespaces/${ns}/gateways/gw`);
        return attachedRoutes(gw) === 0 ? true : undefined;
      });
      await writer.idle();
      const before = writer.stats();
      const cpu0 = cpuSeconds(cluster.dir, 'kube-apiserver');
      const setup = await load.run({ phase: 'create', ns, routes });
      const cpu1 = cpuSeconds(cluster.dir, 'kube-apiserver');
      await writer.idle();
      const after = writer.stats();
      const teardown = await load.run({ phase: 'delete', ns, routes });
      await writer.idle();
      const observedWrites = setup.routeWrites + setup.gatewayWrites;
      const row: StatusBenchRow = {
        run,
        routes,
        createMs: setup.createMs,
        settleMs: setup.settleMs,
        attachedMs: setup.attachedMs,
        writerWrites: after.writes - before.writes,
        observedWrites,
        routeWrites: setup.routeWrites,
        gatewayWrites: setup.gatewayWrites,
        writesPerChangedObject: observedWrites / (routes + 1),
        conflicts: after.conflicts - before.conflicts,
        failures: after.failures - before.failures,
        settledAtLastCreate: setup.settledAtLastCreate,
        teardownMs: teardown.settleMs,
        gatewayWritesTeardown: teardown.gatewayWrites,
        apiServerCpuS: cpu1 - cpu0,
      };
      rows.push(row);
      process.stderr.write(
        `status ${run}/${reps}: settled ${fmt(row.settleMs, 0)} ms after the last of ${routes} creates (${fmt(row.createMs, 0)} ms), ` +
          `${row.writerWrites} writes (${row.observedWrites} observed: ${row.routeWrites} routes, ${row.gatewayWrites} Gateway), ` +
          `${row.conflicts} conflicts, teardown ${fmt(row.teardownMs, 0)} ms\n`,
      );
    }
  } finally {
    controller.stop();
    await writer.stop();
    await load.stop();
    await provider.stop();
    writerRest.close();
    await cluster.down();
  }
  const settings = `qps ${opts.qps ?? STATUS_WRITER_DEFAULTS.qps}, burst ${opts.burst ?? STATUS_WRITER_DEFAULTS.burst}, concurrency ${concurrency}; controller debounce ${opts.debounceMs ?? 50} ms, max delay ${opts.maxDelayMs ?? 500} ms`;
  return { rows, markdown: markdown(rows, settings) };
}

function markdown(rows: StatusBenchRow[], settings: string): string {
  const m = (f: (r: StatusBenchRow) => number) => median(rows.map(f));
  const routes = rows[0]?.routes ?? ROUTES;
  const summary = table(
    [
      '',
      `${routes.toLocaleString('en-US')} HTTPRoutes created at once → every status correct (s)`,
      'status writes (routes + Gateway)',
      'writes per changed object',
      'Gateway status writes (setup + teardown)',
      'all deleted → attachedRoutes 0 (s)',
    ],
    [
      [
        `gatefleet, median of ${rows.length} (this machine, 2 cores, API server on the same host)`,
        fmt(m((r) => r.settleMs) / 1000, 2),
        fmt(
          m((r) => r.observedWrites),
          0,
        ),
        fmt(
          m((r) => r.writesPerChangedObject),
          3,
        ),
        fmt(
          m((r) => r.gatewayWrites + r.gatewayWritesTeardown),
          0,
        ),
        fmt(m((r) => r.teardownMs) / 1000, 2),
      ],
      ['Istio 1.26 (published)', '2', '—', '—', '311', '20'],
      ['Envoy Gateway 1.4 (published)', '23', '—', '—', '1,383', '45'],
    ],
  );
  const runs = table(
    [
      'run',
      'creates (ms)',
      'settled after last create (ms)',
      'attachedRoutes reached (ms)',
      'writer writes',
      'observed status changes (routes / Gateway)',
      'routes already correct at the last create',
      'conflicts',
      'failures',
      'API server CPU while creating (s)',
    ],
    rows.map((r) => [
      r.run,
      fmt(r.createMs, 0),
      fmt(r.settleMs, 0),
      fmt(r.attachedMs, 0),
      r.writerWrites,
      `${r.observedWrites} (${r.routeWrites} / ${r.gatewayWrites})`,
      r.settledAtLastCreate,
      r.conflicts,
      r.failures,
      fmt(r.apiServerCpuS, 1),
    ]),
  );
  return [
    summary,
    '',
    'Published figures: howardjohn/gateway-api-bench README, "Attached Routes" (Part 1, mid-2025; one 16-core',
    'desktop, kind), as quoted in shared/notes/performance-anchors.md §1.3: setup time until',
    '`attachedRoutes` = 1,000, and "Writes", which that test counts as the Gateway status updates it',
    'observes during setup and teardown (tests/attachedroutes/attachedroutes.go). Compare ratios, not',
    'absolute times: different machines.',
    `Status writer: ${settings}.`,
    '',
    runs,
  ].join('\n');
}
