// Translation benchmark: full translation (from scratch, no memo) and one
// edited route (with the previous translation's memo, as the controller
// translates) at 100 to 10,000 HTTPRoutes (100 namespaces, 20 Gateways),
// wall time and heap; and
// the same inputs through Envoy Gateway's `egctl x translate` when it can be
// built here (Go module proxy), as a peer in the same run.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { inputsOf, translate, TranslationMemo } from '../controller/translator/index.js';
import { generateCluster, routeObjects } from './fixtures.js';
import { fmt, gc, mb, median, table } from './stats.js';

const NOW = '2026-01-01T00:00:00Z';
const SIZES = [100, 1_000, 5_000, 10_000];

export interface TranslateRow {
  routes: number;
  fullMs: number;
  editMs: number;
  peakHeapMb: number;
  retainedHeapMb: number;
  peerMs?: number;
}

function timeRuns(runs: number, f: () => void): number[] {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    f();
    out.push(performance.now() - t);
  }
  return out;
}

export function benchTranslateSize(routes: number): TranslateRow {
  // Heap figures count from here: the benchmark process's own modules (the
  // other benchmarks' protos and servers) are not the translator's.
  gc();
  const empty = process.memoryUsage().heapUsed;
  const objs = generateCluster({ routes });
  const inputs = inputsOf(objs);
  const runs = routes >= 5_000 ? 7 : 15;
  translate(inputs, { now: NOW }); // warm-up: JIT and certificate memo
  translate(inputs, { now: NOW });
  const full = timeRuns(runs, () => translate(inputs, { now: NOW }));

  // Heap: live heap right after a translation (inputs + output + garbage not
  // yet collected) and what stays reachable once garbage is collected, both
  // over the heap before the inputs existed.
  gc();
  const base = process.memoryUsage().heapUsed;
  let result = translate(inputs, { now: NOW });
  const peak = process.memoryUsage().heapUsed;
  gc();
  const retained = process.memoryUsage().heapUsed;
  void result;

  // One edited route: the same cluster with route 0 changed, translated as
  // the controller does, with the memo of the previous translation (the
  // unchanged objects are the same objects, as the providers keep them).
  const edited = [...objs];
  const idx = edited.findIndex((o) => o.kind === 'HTTPRoute');
  const edits = [1, 2, 3].map((v) => routeObjects(0, 100, 20, v)[0]!);
  const memo = new TranslationMemo();
  translate(inputsOf(edited), { now: NOW, memo });
  let k = 0;
  const edit = timeRuns(runs, () => {
    edited[idx] = edits[k++ % edits.length]!;
    result = translate(inputsOf(edited), { now: NOW, memo });
  });
  return {
    routes,
    fullMs: median(full),
    editMs: median(edit),
    peakHeapMb: Number(mb(peak - empty)),
    retainedHeapMb: Number(mb(retained - empty)),
    ...{ _base: base - empty },
  } as TranslateRow;
}

/** Builds Envoy Gateway's egctl with Go (module proxy); undefined when that is not possible. */
export function egctlBinary(cacheDir: string): string | undefined {
  const bin = join(cacheDir, 'bin', 'egctl');
  if (existsSync(bin)) return bin;
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (go.status !== 0) return undefined;
  mkdirSync(join(cacheDir, 'bin'), { recursive: true });
  process.stderr.write('building Envoy Gateway egctl v1.9.1 with go install (first run only)...\n');
  const r = spawnSync('go', ['install', 'github.com/envoyproxy/gateway/cmd/egctl@v1.9.1'], {
    env: { ...process.env, GOBIN: join(cacheDir, 'bin') },
    stdio: ['ignore', 'ignore', 'inherit'],
    timeout: 3_600_000,
  });
  return r.status === 0 && existsSync(bin) ? bin : undefined;
}

/** Median wall time of `egctl x translate --to xds` on the same cluster, minus process start. */
export function benchEgctl(bin: string, routes: number, workDir: string): number {
  const write = (n: number) => {
    const f = join(workDir, `eg-${n}.yaml`);
    const objs = generateCluster({
      routes: n,
      controllerName: 'gateway.envoyproxy.io/gatewayclass-controller',
    });
    writeFileSync(f, objs.map((o) => stringify(o)).join('---\n'));
    return f;
  };
  const run = (file: string) => {
    const t = performance.now();
    const r = spawnSync(
      bin,
      [
        'x',
        'translate',
        '--from',
        'gateway-api',
        '--to',
        'xds',
        '-t',
        'all',
        '-o',
        'json',
        '-f',
        file,
      ],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
        maxBuffer: 1 << 30,
      },
    );
    if (r.status !== 0) throw new Error(`egctl failed: ${r.stderr}`);
    return performance.now() - t;
  };
  const base = write(1);
  const file = write(routes);
  // egctl needs minutes at 5,000 routes: one run there, five below.
  const runs = routes >= 5_000 ? 1 : 5;
  const baseline = median(Array.from({ length: 3 }, () => run(base)));
  const times = Array.from({ length: runs }, () => run(file));
  return median(times) - baseline;
}

export function runTranslateBench(cacheDir: string): { rows: TranslateRow[]; markdown: string } {
  const bin = process.env.GATEFLEET_BENCH_NO_PEER ? undefined : egctlBinary(cacheDir);
  const work = join(cacheDir, 'translate');
  mkdirSync(work, { recursive: true });
  const rows: TranslateRow[] = [];
  for (const n of SIZES) {
    const row = benchTranslateSize(n);
    process.stderr.write(`translate ${n} routes: gatefleet ${fmt(row.fullMs)} ms\n`);
    if (bin && n <= 5_000) {
      row.peerMs = benchEgctl(bin, n, work);
      process.stderr.write(`translate ${n} routes: egctl ${fmt(row.peerMs, 0)} ms\n`);
    }
    rows.push(row);
  }
  const markdown = table(
    [
      'HTTPRoutes',
      'full translation (median ms)',
      'one route edited (median ms)',
      'heap after translation, before GC (MB)',
      'heap retained (MB)',
      'Envoy Gateway egctl, same input (median ms)',
    ],
    rows.map((r) => [
      r.routes.toLocaleString('en-US'),
      fmt(r.fullMs),
      fmt(r.editMs),
      fmt(r.peakHeapMb),
      fmt(r.retainedHeapMb),
      r.peerMs === undefined ? 'not run' : fmt(r.peerMs, 0),
    ]),
  );
  return { rows, markdown };
}
