// The benchmark's results: the rows kept in results/latest.json, the targets
// they are held to, and the Markdown tables.
import { fmt, median, table } from './stats.js';
import { CONNECTIONS, REPEATS, SECONDS, WARMUP_SECONDS } from './gateway-bench-settings.js';

export type ProxyId = 'gatefleet' | 'nginx' | 'haproxy' | 'gatefleet-w2' | 'direct';

export interface GatewayThroughputRow {
  proxy: ProxyId;
  label: string;
  connections: number;
  runs: number;
  rpsMedian: number;
  rpsMin: number;
  rpsMax: number;
  p50Ms: number;
  p99Ms: number;
  /** The proxy's CPU over the run (utime+stime of its process tree), % of one core. */
  cpuPct: number;
  /** The proxy's resident memory (sum over its processes) at the end of the run. */
  rssMb: number;
  /** Median of requests/s ÷ the proxy's CPU (cores): robust to other processes taking CPU 0. */
  rpsPerCore: number;
  /** Other processes' share of CPU 0 during the runs (median, %). */
  foreignPct: number;
  errors: number;
  loadAvg: number[];
}

export interface GatewayScalingRow {
  routes: number;
  runs: number;
  /** RSS with the routes applied, before any load; then the V8 heap and external memory then. */
  rssMb: number;
  heapUsedMb: number;
  externalMb: number;
  /** RSS right after the c=50 run (young generation grown, connection buffers). */
  loadedRssMb: number;
  applyMs: number;
  applyMsMin: number;
  applyMsMax: number;
  /** publishIR() until the snapshot reached the xDS server (not part of applyMs). */
  snapshotBuildMs: number;
  rpsMedian: number;
  rpsMin: number;
  rpsMax: number;
  p99Ms: number;
  changePct: number;
  /** Median of requests/s ÷ the gateway's CPU (cores). */
  rpsPerCore: number;
  foreignPct: number;
  errors: number;
  loadAvg: number[];
}

export interface GatewayBenchRows {
  date: string;
  pinned: boolean;
  backend: string;
  versions: Record<string, string>;
  notRun: { what: string; why: string }[];
  throughput: GatewayThroughputRow[];
  scaling: GatewayScalingRow[];
  targets: { target: string; value: string; met: boolean | undefined }[];
}

const range = (xs: number[]) =>
  `${fmt(median(xs), 0)} [${fmt(Math.min(...xs), 0)}–${fmt(Math.max(...xs), 0)}]`;

export function targets(rows: GatewayBenchRows): GatewayBenchRows['targets'] {
  const t: GatewayBenchRows['targets'] = [];
  const row = (p: ProxyId, c: number) =>
    rows.throughput.find((r) => r.proxy === p && r.connections === c);
  for (const c of CONNECTIONS) {
    const g = row('gatefleet', c);
    const n = row('nginx', c);
    if (!g || !n) continue;
    const ratio = g.rpsMedian / n.rpsMedian;
    t.push({
      target: `c=${c}: one worker ≥ 60 % of nginx's requests/s`,
      value: `${fmt(ratio * 100, 0)} % (${fmt(g.rpsMedian, 0)} vs ${fmt(n.rpsMedian, 0)})`,
      met: ratio >= 0.6,
    });
    const p99 = g.p99Ms / n.p99Ms;
    t.push({
      target: `c=${c}: p99 ≤ 1.5 × nginx's`,
      value: `${fmt(p99, 2)} × (${fmt(g.p99Ms, 3)} vs ${fmt(n.p99Ms, 3)} ms)`,
      met: p99 <= 1.5,
    });
    const perCore = g.rpsPerCore / n.rpsPerCore;
    t.push({
      target: `c=${c}: (not a target) requests per CPU-second, gatefleet ÷ nginx`,
      value: `${fmt(perCore * 100, 0)} % (${fmt(g.rpsPerCore, 0)} vs ${fmt(n.rpsPerCore, 0)})`,
      met: undefined,
    });
  }
  const big = rows.scaling.find((r) => r.routes === 5_000);
  if (big) {
    t.push({
      target: 'RSS ≤ 80 MB at 5,000 routes',
      value: `${fmt(big.rssMb)} MB`,
      met: big.rssMb <= 80,
    });
    const small = rows.scaling[0]!;
    const sign = (x: number) => `${x >= 0 ? '+' : ''}${fmt(x)} %`;
    t.push({
      target: `requests/s drop < 5 % from ${small.routes} to 5,000 routes`,
      value: `change ${sign(big.changePct)}`,
      met: big.changePct > -5,
    });
    t.push({
      target: `(not a target) requests per gateway CPU-second, ${small.routes} → 5,000 routes`,
      value: `${sign((big.rpsPerCore / small.rpsPerCore - 1) * 100)} (${fmt(small.rpsPerCore, 0)} → ${fmt(big.rpsPerCore, 0)})`,
      met: undefined,
    });
  }
  return t;
}

export function render(rows: GatewayBenchRows): string {
  const parts: string[] = [];
  if (rows.throughput.length > 0) {
    parts.push(
      table(
        [
          'proxy',
          'connections',
          'requests/s median [range]',
          'p50 (ms)',
          'p99 (ms)',
          'proxy CPU (%)',
          'requests per proxy CPU-second',
          'proxy RSS (MB)',
        ],
        rows.throughput.map((r) => [
          r.label,
          r.connections,
          `${range([r.rpsMin, r.rpsMedian, r.rpsMax])}${r.errors ? ` (${r.errors} errors)` : ''}`,
          fmt(r.p50Ms, 3),
          fmt(r.p99Ms, 3),
          fmt(r.cpuPct, 0),
          fmt(r.rpsPerCore, 0),
          fmt(r.rssMb),
        ]),
      ),
    );
  }
  const peers = [
    ['nginx', 'nginx'],
    ['haproxy', 'HAProxy'],
  ] as const;
  for (const [cmd, name] of peers) {
    const m = rows.notRun.find((x) => x.what === cmd);
    if (m) parts.push(`${name}: not run (${m.why}).`);
  }
  if (rows.notRun.some((x) => x.what === 'wrk')) parts.push('Not run: wrk could not be installed.');
  if (rows.scaling.length > 0) {
    parts.push(
      table(
        [
          'HTTPRoutes',
          'gateway RSS after applying (MB)',
          'V8 heap used / external (MB)',
          'RSS after the c=50 run (MB)',
          'apply, snapshot to ACK (median ms [range])',
          'requests/s c=50 median [range]',
          'p99 c=50 (ms)',
          'requests per gateway CPU-second',
          'change vs 10 routes',
        ],
        rows.scaling.map((r) => [
          r.routes.toLocaleString('en-US'),
          fmt(r.rssMb),
          `${fmt(r.heapUsedMb)} / ${fmt(r.externalMb)}`,
          fmt(r.loadedRssMb),
          `${fmt(r.applyMs, 0)} [${fmt(r.applyMsMin, 0)}–${fmt(r.applyMsMax, 0)}]`,
          `${fmt(r.rpsMedian, 0)} [${fmt(r.rpsMin, 0)}–${fmt(r.rpsMax, 0)}]${r.errors ? ` (${r.errors} errors)` : ''}`,
          fmt(r.p99Ms, 3),
          fmt(r.rpsPerCore, 0),
          r.routes === rows.scaling[0]!.routes
            ? '—'
            : `${r.changePct >= 0 ? '+' : ''}${fmt(r.changePct)} %`,
        ]),
      ),
    );
  }
  if (rows.targets.length > 0) {
    parts.push(
      rows.targets
        .map(
          (t) =>
            `- ${t.target}: ${t.value}` +
            (t.met === undefined ? '' : `: **${t.met ? 'met' : 'not met'}**`),
        )
        .join('\n'),
    );
  }
  const loads = [...rows.throughput, ...rows.scaling].flatMap((r) => r.loadAvg);
  const foreign = [
    ...rows.throughput.filter((r) => ['gatefleet', 'nginx', 'haproxy'].includes(r.proxy)),
    ...rows.scaling,
  ].map((r) => r.foreignPct);
  parts.push(
    `Backend: ${rows.backend || 'none'}; ${rows.pinned ? 'proxy pinned to CPU 0, wrk, backend and xDS server to CPU 1' : 'taskset unavailable: nothing pinned'}; ` +
      `${REPEATS} interleaved runs of ${SECONDS} s after ${WARMUP_SECONDS} s of warm-up; ` +
      `Node ${rows.versions.node}` +
      (loads.length
        ? `; 1-minute load average ${fmt(Math.min(...loads))}–${fmt(Math.max(...loads))}`
        : '') +
      (foreign.length
        ? `; other processes took ${fmt(Math.min(...foreign), 0)}–${fmt(Math.max(...foreign), 0)} % ` +
          'of CPU 0 during the pinned runs (median per row)'
        : '') +
      '.',
  );
  return parts.join('\n\n');
}
