// CP-2, route change under load (shared notes, performance anchors §8.3): a
// constant request rate on one route of `gatefleet run` (the real product,
// its own gateway process) while the route file is rewritten every 200 ms,
// 20 times, each time flipping the backend (Service churn-a ↔ churn-b, two
// nginx servers answering `x-backend: A|B`) and the value of the route's
// RequestHeaderModifier (x-churn, echoed by the backend as x-seen-churn)
// and ResponseHeaderModifier (x-churn-resp). Pass: 0 non-2xx, 0 socket
// errors; every response's backend, request header and response header must
// belong to one and the same version of the route; both backends and the
// header values must be seen, and after the last flip only the final one.
//
// Load: vegeta (open loop: requests are sent at the rate whatever the
// latency, unlike wrk), keep-alive, built with `go install` (module proxy)
// into .cache/bench/bin. Vegeta and the backend are pinned to CPU 1, the
// gateway to CPU 0 (taskset); the controller and this process are not
// pinned. First a run without churn at the rate checks that it holds steady
// (0 errors, ≥ 98 % of the rate achieved, p99 ≤ 50 ms); when it does not,
// lower rates are tried and the churn runs at the highest steady rate too.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  gatewayYaml,
  loadAverages,
  pct,
  probe,
  routeYaml,
  serviceYaml,
  sleep,
  startBackend,
  startGatefleet,
  wallNow,
  type Gatefleet,
} from './control-plane-tools.js';
import { canPin, cpuSeconds, freePort, pinProcess, stopChild } from './load-tools.js';
import { fmt, median, table } from './stats.js';

const env = process.env;
const RATE = Number(env.GATEFLEET_BENCH_CHURN_RATE ?? 5_000);
const FALLBACK_RATES = [4_000, 3_000, 2_000, 1_000];
const RUNS = Number(env.GATEFLEET_BENCH_CHURN_RUNS ?? 3);
const FLIPS = 20;
const INTERVAL_MS = 200;
const PRE_MS = 1_500;
const POST_MS = 2_500;
const BASELINE_S = 5;
const VEGETA = 'github.com/tsenart/vegeta/v12';
const VEGETA_VERSION = 'v12.13.0';
const HOST = 'churn.example.com';

export interface ChurnRun {
  rate: number;
  churn: boolean;
  requests: number;
  achievedRps: number;
  non2xx: number;
  socketErrors: number;
  errorKinds: string[];
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  byBackend: Record<string, number>;
  /** Route versions (0…20) seen in responses; torn = backend, request and response header disagree. */
  versionsSeen: number;
  torn: number;
  /** Per flip: first response with the new version − the file write (ms); NaN when never seen. */
  flipToFirstMs: number[];
  /** After the last write: first response with the final version, last with an older one (ms). */
  finalFromMs: number;
  lastOlderMs: number;
  olderAfter1s: number;
  gatewayCpuPct: number;
  load: string;
}

export interface ChurnRows {
  generator: string;
  backend: string;
  pinned: boolean;
  steadyRate: number;
  runs: ChurnRun[];
}

/** vegeta from the module proxy, cached under .cache/bench/bin; undefined when Go cannot build it. */
export function vegetaBinary(cacheDir: string): string | undefined {
  const bin = join(cacheDir, 'bin', 'vegeta');
  if (existsSync(bin)) return bin;
  if (spawnSync('go', ['version'], { stdio: 'ignore' }).status !== 0) return undefined;
  process.stderr.write(`route churn: go install ${VEGETA}@${VEGETA_VERSION}\n`);
  const r = spawnSync('go', ['install', `${VEGETA}@${VEGETA_VERSION}`], {
    env: { ...process.env, GOBIN: join(cacheDir, 'bin') },
    stdio: ['ignore', 'ignore', 'inherit'],
    timeout: 900_000,
  });
  return r.status === 0 && existsSync(bin) ? bin : undefined;
}

interface VegetaResult {
  code: number;
  timestamp: string;
  latency: number;
  error: string;
  headers: Record<string, string[]> | null;
}

/** One vegeta attack (pinned to `cpus`), decoded. */
async function attack(
  bin: string,
  dir: string,
  url: string,
  rate: number,
  seconds: number,
  cpus: string | undefined,
): Promise<VegetaResult[]> {
  const targets = join(dir, 'targets.txt');
  const out = join(dir, 'results.bin');
  writeFileSync(targets, `GET ${url}\nHost: ${HOST}\n`);
  const args = ['attack', `-rate=${rate}/1s`, `-duration=${seconds}s`, `-targets=${targets}`];
  // At most 1,000 workers (each with its connection): unbounded, a stall
  // made vegeta open over 10,000 connections and run out of local ports.
  args.push(`-output=${out}`, '-timeout=10s', '-http2=false', '-workers=20', '-max-workers=1000');
  const [cmd, argv] = cpus === undefined ? [bin, args] : ['taskset', ['-c', cpus, bin, ...args]];
  await new Promise<void>((resolve, reject) => {
    const c = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    c.stderr.on('data', (b: Buffer) => (err += b.toString()));
    c.once('error', reject);
    c.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`vegeta: ${err}`))));
  });
  const r = spawnSync(bin, ['encode', '--to', 'json', out], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  if (r.status !== 0) throw new Error(`vegeta encode: ${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as VegetaResult);
}

const header = (r: VegetaResult, name: string) => r.headers?.[name]?.[0];

/** Route version k: backend A for even k, B for odd; header value `<run>v<k>`. */
const versionIndex = (v: string | undefined) => Number(/v(\d+)$/.exec(v ?? '')?.[1] ?? NaN);

function analyse(
  rs: VegetaResult[],
  rate: number,
  writes: number[],
  gatewayCpuPct: number,
): ChurnRun {
  const start = (r: VegetaResult) => Date.parse(r.timestamp);
  const t0 = Math.min(...rs.map(start));
  const t1 = Math.max(...rs.map((r) => start(r) + r.latency / 1e6));
  const ok = (r: VegetaResult) => r.code >= 200 && r.code < 300;
  const socket = rs.filter((r) => r.code === 0);
  const churning = writes.length > 0;
  const window = churning
    ? rs.filter((r) => start(r) >= writes[0]! && start(r) <= writes[writes.length - 1]! + 1_000)
    : rs;
  const lat = window.map((r) => r.latency / 1e6);
  const byBackend: Record<string, number> = {};
  const first = new Map<number, number>();
  let torn = 0;
  const last = FLIPS;
  let finalFrom = NaN;
  let lastOlder = NaN;
  let olderAfter1s = 0;
  const lastWrite = writes[writes.length - 1] ?? 0;
  for (const r of rs) {
    if (!ok(r)) continue;
    const b = header(r, 'X-Backend') ?? '?';
    byBackend[b] = (byBackend[b] ?? 0) + 1;
    const seen = header(r, 'X-Seen-Churn');
    const k = versionIndex(seen);
    if (seen !== header(r, 'X-Churn-Resp') || b !== (k % 2 ? 'B' : 'A')) torn++;
    if (!first.has(k) || first.get(k)! > start(r)) first.set(k, start(r));
    if (!churning) continue;
    const at = start(r) - lastWrite;
    if (k === last && (Number.isNaN(finalFrom) || at < finalFrom)) finalFrom = at;
    if (k !== last && at > 0 && (Number.isNaN(lastOlder) || at > lastOlder)) lastOlder = at;
    if (k !== last && at > 1_000) olderAfter1s++;
  }
  return {
    rate,
    churn: churning,
    requests: rs.length,
    achievedRps: rs.filter(ok).length / ((t1 - t0) / 1000),
    non2xx: rs.filter((r) => r.code !== 0 && !ok(r)).length,
    socketErrors: socket.length,
    errorKinds: [...new Set(rs.filter((r) => r.error).map((r) => r.error.slice(0, 120)))].slice(
      0,
      5,
    ),
    p50Ms: pct(lat, 50),
    p99Ms: pct(lat, 99),
    maxMs: Math.max(...lat),
    byBackend,
    versionsSeen: first.size,
    torn,
    flipToFirstMs: writes.map((w, i) => (first.get(i + 1) ?? NaN) - w),
    finalFromMs: finalFrom,
    lastOlderMs: lastOlder,
    olderAfter1s,
    gatewayCpuPct,
    load: loadAverages(),
  };
}

const steady = (r: ChurnRun) =>
  r.non2xx === 0 && r.socketErrors === 0 && r.achievedRps >= 0.98 * r.rate && r.p99Ms <= 50;

export async function runRouteChurnBench(
  cacheDir: string,
): Promise<{ rows: ChurnRows; markdown: string }> {
  const bin = vegetaBinary(cacheDir);
  if (!bin) throw new Error('route churn: vegeta cannot be built (Go and its module proxy needed)');
  const dir = mkdtempSync(join(tmpdir(), 'gatefleet-churn-'));
  const pin = canPin();
  const loadCpu = pin ? '1' : undefined;
  const ports = { a: await freePort(), b: await freePort(), gw: await freePort() };
  const rows: ChurnRows = {
    generator: `vegeta ${VEGETA_VERSION} (${bin})`,
    backend: '',
    pinned: pin,
    steadyRate: NaN,
    runs: [],
  };
  const backend = await startBackend(
    join(dir, 'backend'),
    [
      { name: 'A', port: ports.a },
      { name: 'B', port: ports.b },
    ],
    loadCpu,
  );
  rows.backend = backend.what;
  const config = join(dir, 'config');
  mkdirSync(config);
  writeFileSync(join(config, '00-gateway.yaml'), gatewayYaml(ports.gw));
  writeFileSync(
    join(config, '10-services.yaml'),
    `${serviceYaml('churn-a', ports.a)}---\n${serviceYaml('churn-b', ports.b)}`,
  );
  const routeFile = join(config, '20-route.yaml');
  const writeRoute = (run: number, k: number) =>
    writeFileSync(
      routeFile,
      routeYaml('churn', HOST, k % 2 ? 'churn-b' : 'churn-a', `${run}v${k}`, 'x-churn'),
    );
  writeRoute(0, 0);
  let gf: Gatefleet | undefined;
  try {
    gf = await startGatefleet(config, join(dir, 'state'), '127.0.10.202');
    if (pin) pinProcess(gf.gatewayPid, '0');
    const url = `http://${gf.address}:${ports.gw}/`;
    const until = async (run: number, k: number) => {
      const end = Date.now() + 60_000;
      while (Date.now() < end) {
        const r = await probe(gf!.address, ports.gw, HOST);
        if (r.status === 200 && r.headers?.['x-churn-resp'] === `${run}v${k}`) return;
        await sleep(20);
      }
      throw new Error(`route churn: the gateway does not serve version ${run}v${k}: ${gf!.tail()}`);
    };
    await until(0, 0);
    const once = async (rate: number, churn: boolean, run: number): Promise<ChurnRun> => {
      writeRoute(run, 0);
      await until(run, 0);
      await sleep(300);
      const cpu0 = cpuSeconds(gf!.gatewayPid);
      const w0 = wallNow();
      const seconds = churn ? (PRE_MS + FLIPS * INTERVAL_MS + POST_MS) / 1000 : BASELINE_S;
      const results = attack(bin, dir, url, rate, seconds, loadCpu);
      const writes: number[] = [];
      if (churn) {
        for (let k = 1; k <= FLIPS; k++) {
          await sleep(Math.max(0, w0 + PRE_MS + k * INTERVAL_MS - wallNow()));
          writes.push(wallNow());
          writeRoute(run, k);
        }
      }
      const rs = await results;
      const cpu = ((cpuSeconds(gf!.gatewayPid) - cpu0) / ((wallNow() - w0) / 1000)) * 100;
      const r = analyse(rs, rate, writes, cpu);
      process.stderr.write(
        `route churn ${rate}/s ${churn ? `churn run ${run}` : 'baseline'}: ${r.requests} requests, ` +
          `${fmt(r.achievedRps, 0)}/s, non-2xx ${r.non2xx}, socket errors ${r.socketErrors}, ` +
          `p50 ${fmt(r.p50Ms, 2)} p99 ${fmt(r.p99Ms, 2)} max ${fmt(r.maxMs, 1)} ms, ` +
          `A/B ${r.byBackend.A ?? 0}/${r.byBackend.B ?? 0}, versions ${r.versionsSeen}, torn ${r.torn}, ` +
          `gateway CPU ${fmt(r.gatewayCpuPct, 0)} %, load ${r.load}\n`,
      );
      return r;
    };
    let run = 0;
    const base = await once(RATE, false, ++run);
    rows.runs.push(base);
    rows.steadyRate = steady(base) ? RATE : NaN;
    for (const rate of steady(base) ? [] : FALLBACK_RATES.filter((x) => x < RATE)) {
      const b = await once(rate, false, ++run);
      rows.runs.push(b);
      if (steady(b)) {
        rows.steadyRate = rate;
        break;
      }
    }
    const rates = [RATE, ...(rows.steadyRate < RATE ? [rows.steadyRate] : [])];
    for (const rate of rates) {
      for (let i = 0; i < RUNS; i++) rows.runs.push(await once(rate, true, ++run));
    }
  } finally {
    if (gf) await gf.stop();
    await stopChild(backend.child);
    rmSync(dir, { recursive: true, force: true });
  }
  return { rows, markdown: render(rows) };
}

function render(rows: ChurnRows): string {
  const groups = new Map<string, ChurnRun[]>();
  for (const r of rows.runs) {
    const k = `${r.rate}|${r.churn}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  const sum = (rs: ChurnRun[], f: (r: ChurnRun) => number) => rs.reduce((a, r) => a + f(r), 0);
  const t = table(
    [
      'rate (req/s)',
      'phase',
      'runs',
      'requests',
      'achieved (req/s, median)',
      'non-2xx',
      'socket errors',
      'latency p50 / p99 / max (ms)',
      'responses A / B',
      'route versions seen (of 21 per run)',
      'torn (backend ≠ header version)',
      'write → first response of that version, p50 / p99 / max (ms)',
      'after the last write: final version from / last older response at (ms)',
      'gateway CPU (%)',
    ],
    [...groups.values()].map((rs) => {
      const flips = rs.flatMap((r) => r.flipToFirstMs);
      const seen = flips.filter(Number.isFinite);
      const churn = rs[0]!.churn;
      return [
        rs[0]!.rate.toLocaleString('en-US'),
        churn ? `${FLIPS} flips, ${INTERVAL_MS} ms apart` : `no churn, ${BASELINE_S} s`,
        rs.length,
        sum(rs, (r) => r.requests).toLocaleString('en-US'),
        fmt(median(rs.map((r) => r.achievedRps)), 0),
        sum(rs, (r) => r.non2xx),
        sum(rs, (r) => r.socketErrors) +
          (rs.some((r) => r.errorKinds.length) ? ` (${rs[0]!.errorKinds.join('; ')})` : ''),
        `${fmt(median(rs.map((r) => r.p50Ms)), 2)} / ${fmt(median(rs.map((r) => r.p99Ms)), 2)} / ` +
          fmt(Math.max(...rs.map((r) => r.maxMs)), 1),
        `${sum(rs, (r) => r.byBackend.A ?? 0)} / ${sum(rs, (r) => r.byBackend.B ?? 0)}`,
        churn ? rs.map((r) => r.versionsSeen).join(', ') : '—',
        sum(rs, (r) => r.torn),
        churn
          ? `${fmt(median(seen), 0)} / ${fmt(pct(seen, 99), 0)} / ${fmt(Math.max(...seen), 0)}` +
            (seen.length < flips.length ? ` (${flips.length - seen.length} never seen)` : '')
          : '—',
        churn
          ? rs
              .map(
                (r) =>
                  `${fmt(r.finalFromMs, 0)} / ${fmt(r.lastOlderMs, 0)}` +
                  (r.olderAfter1s ? ` (${r.olderAfter1s} older after 1 s)` : ''),
              )
              .join('; ')
          : '—',
        fmt(median(rs.map((r) => r.gatewayCpuPct)), 0),
      ];
    }),
  );
  const churnRuns = rows.runs.filter((r) => r.churn && r.rate === RATE);
  const errs = churnRuns.reduce((a, r) => a + r.non2xx + r.socketErrors, 0);
  const lines = [
    t,
    `- ${RATE.toLocaleString('en-US')} req/s holds steady without churn: ` +
      `**${rows.steadyRate === RATE ? 'yes' : `no (highest steady rate: ${fmt(rows.steadyRate, 0)} req/s)`}**\n` +
      `- 0 non-2xx and 0 socket errors during the churn at ${RATE.toLocaleString('en-US')} req/s: ` +
      `${errs}: **${errs === 0 ? 'met' : 'not met'}**\n` +
      `- responses switched (both backends, every run ends on the final version only): ` +
      `**${churnRuns.every((r) => (r.byBackend.A ?? 0) > 0 && (r.byBackend.B ?? 0) > 0 && r.olderAfter1s === 0 && r.torn === 0) ? 'yes' : 'no'}**`,
    `Generator ${rows.generator}, keep-alive, open loop; backend ${rows.backend}; ` +
      `${rows.pinned ? 'gateway pinned to CPU 0, vegeta and the backend to CPU 1, controller not pinned' : 'nothing pinned (no taskset)'}; ` +
      `latency over requests sent from the first write to 1 s after the last; ` +
      `load average (1, 5, 15 min) after each run: ${rows.runs.map((r) => r.load.split(' ')[0]).join(', ')}; ` +
      `Node ${process.version}.`,
  ];
  return lines.join('\n\n');
}
