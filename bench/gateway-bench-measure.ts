// Measuring one proxy: probing the route, launching processes, a wrk run with
// the proxy's CPU and RSS, and measureQuiet() with the quiet-CPU budgets.
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import {
  cpuBusySeconds,
  cpuSeconds,
  loadAverage,
  pinned,
  rssBytes,
  runWrk,
  type WrkResult,
} from './load-tools.js';
import { fmt } from './stats.js';
import {
  FOREIGN_MAX_PCT,
  HOST,
  PATH,
  RETRIES,
  SECONDS,
  WAIT_BUDGET_MS,
  WARMUP_SECONDS,
} from './gateway-bench-settings.js';

/**
 * What is left of the budgets of measureQuiet() (retries, waiting for a quiet
 * CPU 0) in the whole benchmark; resetQuietBudget() refills them.
 */
let retriesLeft = RETRIES;
let waitBudgetMs = WAIT_BUDGET_MS;

/** Refills the quiet-CPU budgets (at the start of every runGatewayBench()). */
export function resetQuietBudget(): void {
  retriesLeft = RETRIES;
  waitBudgetMs = WAIT_BUDGET_MS;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** GET http://<address>:<port>/ with our Host; resolves with the status (0 on error). */
function probe(address: string, port: number): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      { host: address, port, path: PATH, headers: { host: HOST }, agent: false, timeout: 2_000 },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

export async function until200(
  address: string,
  port: number,
  what: string,
  child?: ChildProcess,
  ms = 20_000,
) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if ((await probe(address, port)) === 200) return;
    if (child && (child.exitCode !== null || child.signalCode !== null)) break;
    await sleep(50);
  }
  const tail = child ? `: ${tailOf(child)}` : '';
  throw new Error(`${what} does not answer 200 on ${address}:${port}${tail}`);
}

/** A child process whose output is kept (the tail) for error messages. */
export function launch(cmd: string, args: string[], cpus: string | undefined): ChildProcess {
  const [c, a] = pinned(cpus, cmd, args);
  const child = spawn(c, a, { stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  const keep = (d: Buffer) => (tail = (tail + d.toString()).slice(-4_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  Object.defineProperty(child, 'tail', { get: () => tail });
  return child;
}

export const tailOf = (c: ChildProcess) => (c as ChildProcess & { tail: string }).tail;

/** Waits until something accepts HTTP on 127.0.0.1:`port`. */
export async function untilListening(port: number, what: string): Promise<void> {
  const end = Date.now() + 10_000;
  while (Date.now() < end) {
    if ((await probe('127.0.0.1', port)) !== 0) return;
    await sleep(50);
  }
  throw new Error(`${what} does not listen on ${port}`);
}

export interface Sample extends WrkResult {
  cpuPct: number;
  rssMb: number;
  load: number;
  /** CPU 0 busy time that was not the proxy's (other processes), % of the run. */
  foreignPct: number;
}

/** 2 s of warm-up, then a measured run with the proxy's CPU and RSS. */
export async function measure(
  address: string,
  port: number,
  connections: number,
  pid: number | undefined,
  cpus: string | undefined,
): Promise<Sample> {
  const url = `http://${address}:${port}${PATH}`;
  const o = { url, connections, threads: 1, host: HOST, cpus };
  await runWrk({ ...o, seconds: WARMUP_SECONDS });
  const load = loadAverage();
  const cpu0 = pid === undefined ? 0 : cpuSeconds(pid);
  const busy0 = cpuBusySeconds(0);
  const t0 = performance.now();
  const r = await runWrk({ ...o, seconds: SECONDS });
  const wall = (performance.now() - t0) / 1000;
  const cpu = pid === undefined ? NaN : cpuSeconds(pid) - cpu0;
  const busy = cpuBusySeconds(0) - busy0;
  return {
    ...r,
    cpuPct: (cpu / wall) * 100,
    rssMb: pid === undefined ? NaN : rssBytes(pid) / 1024 / 1024,
    load,
    foreignPct: (Math.max(0, busy - cpu) / wall) * 100,
  };
}

/** Share of CPU 0 (%) other processes use over `ms` while nothing is measured. */
async function cpu0Busy(ms: number): Promise<number> {
  const b = cpuBusySeconds(0);
  const t = performance.now();
  await sleep(ms);
  return ((cpuBusySeconds(0) - b) / ((performance.now() - t) / 1000)) * 100;
}

/**
 * measure() for a proxy pinned to CPU 0, on a shared machine: first waits
 * (within a time budget) until other processes leave CPU 0 mostly idle;
 * then, when they took more than FOREIGN_MAX_PCT of it during the run,
 * measures again (within a retry budget) and keeps the run with the least
 * interference.
 */
export async function measureQuiet(...args: Parameters<typeof measure>): Promise<Sample> {
  while (waitBudgetMs > 0) {
    const t = performance.now();
    const busy = await cpu0Busy(1_000);
    if (busy <= FOREIGN_MAX_PCT) break;
    await sleep(2_000);
    waitBudgetMs -= performance.now() - t;
  }
  let s = await measure(...args);
  while (s.foreignPct > FOREIGN_MAX_PCT && retriesLeft > 0) {
    retriesLeft--;
    process.stderr.write(
      `gateway bench: other processes used ${fmt(s.foreignPct, 0)} % of CPU 0 ` +
        `(load ${s.load}): measuring again\n`,
    );
    await sleep(3_000);
    const again = await measure(...args);
    if (again.foreignPct < s.foreignPct) s = again;
    else break;
  }
  return s;
}
