// Helpers for data-plane benchmarks: Debian packages installed on demand,
// CPU pinning with taskset, wrk runs and their parsed output, and a process
// tree's CPU time and resident memory read from /proc.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';

/** Whether `cmd` is on PATH (or at one of the usual sbin places). */
export function which(cmd: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  for (const dir of ['/usr/sbin', '/sbin', '/usr/local/sbin']) {
    if (existsSync(`${dir}/${cmd}`)) return `${dir}/${cmd}`;
  }
  return undefined;
}

/**
 * Installs the Debian packages whose command is missing, with apt-get
 * (root only). The package lists are refreshed only when an install fails
 * without. Returns what could not be installed, with why.
 */
export function ensureCommands(wanted: { cmd: string; packages: string[] }[]): {
  missing: { cmd: string; why: string }[];
} {
  const todo = wanted.filter((w) => !which(w.cmd));
  if (todo.length === 0) return { missing: [] };
  const noApt = (why: string) => ({ missing: todo.map((w) => ({ cmd: w.cmd, why })) });
  if (!which('apt-get')) return noApt('apt-get not found');
  if (process.getuid?.() !== 0) return noApt('not root, apt-get install impossible');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const missing: { cmd: string; why: string }[] = [];
  let updated = false;
  for (const w of todo) {
    let last = '';
    for (const pkg of w.packages) {
      const install = () =>
        spawnSync('apt-get', ['install', '-y', '-qq', pkg], {
          env,
          encoding: 'utf8',
          timeout: 600_000,
        });
      process.stderr.write(`gateway bench: apt-get install -y ${pkg}\n`);
      let r = install();
      if (r.status !== 0 && !updated) {
        updated = true;
        spawnSync('apt-get', ['update', '-qq'], { env, stdio: 'ignore', timeout: 600_000 });
        r = install();
      }
      if (r.status === 0 && which(w.cmd)) break;
      last = (r.stderr || r.stdout || `exit ${r.status}`).trim().split('\n').slice(-1)[0] ?? '';
    }
    if (!which(w.cmd)) missing.push({ cmd: w.cmd, why: `apt-get install failed: ${last}` });
  }
  return { missing };
}

/** True when taskset can pin processes to CPUs 0 and 1 here. */
export function canPin(): boolean {
  const r = spawnSync('taskset', ['-c', '0,1', 'true'], { stdio: 'ignore' });
  return r.status === 0;
}

/** `taskset -c <cpus> cmd args…` when pinning works, else `cmd args…`. */
export function pinned(cpus: string | undefined, cmd: string, args: string[]): [string, string[]] {
  return cpus === undefined ? [cmd, args] : ['taskset', ['-c', cpus, cmd, ...args]];
}

/** Pins every thread of process `pid`; returns the previous mask (hex) to restore it. */
export function pinProcess(pid: number, cpus: string): string | undefined {
  const cur = spawnSync('taskset', ['-p', String(pid)], { encoding: 'utf8' });
  const mask = /mask:\s*([0-9a-f]+)/i.exec(cur.stdout)?.[1];
  spawnSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
  return mask;
}

export function restoreMask(pid: number, mask: string | undefined): void {
  if (mask) spawnSync('taskset', ['-a', '-p', mask, String(pid)], { stdio: 'ignore' });
}

/** A free TCP port on 127.0.0.1 (free when asked; small race with others). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface WrkResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** Non-2xx/3xx responses plus socket errors. */
  errors: number;
}

function toMs(v: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(v.trim());
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : n * 60_000;
}

export function parseWrk(out: string): WrkResult {
  const rps = Number(/Requests\/sec:\s*([\d.]+)/.exec(out)?.[1] ?? NaN);
  const p50 = /^\s*50(?:\.000)?%\s+(\S+)/m.exec(out)?.[1];
  const p99 = /^\s*99(?:\.000)?%\s+(\S+)/m.exec(out)?.[1];
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN);
  const non2xx = Number(/Non-2xx or 3xx responses:\s*(\d+)/.exec(out)?.[1] ?? 0);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const sockErrors = sock ? sock.slice(1).reduce((a, x) => a + Number(x), 0) : 0;
  return {
    rps,
    p50Ms: p50 ? toMs(p50) : NaN,
    p99Ms: p99 ? toMs(p99) : NaN,
    requests,
    errors: non2xx + sockErrors,
  };
}

export interface WrkOptions {
  url: string;
  connections: number;
  threads: number;
  seconds: number;
  host?: string;
  /** CPUs wrk is pinned to (undefined: not pinned). */
  cpus?: string;
}

/** Runs wrk to completion (asynchronously: this process keeps serving xDS meanwhile). */
export function runWrk(o: WrkOptions): Promise<WrkResult> {
  const args = [
    `-t${o.threads}`,
    `-c${o.connections}`,
    `-d${o.seconds}s`,
    '--latency',
    ...(o.host ? ['-H', `Host: ${o.host}`] : []),
    o.url,
  ];
  const [cmd, argv] = pinned(o.cpus, 'wrk', args);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`wrk exited with ${code}: ${err || out}`));
      const r = parseWrk(out);
      if (!Number.isFinite(r.rps)) return reject(new Error(`cannot read wrk output: ${out}`));
      resolve(r);
    });
  });
}

const CLK_TCK = (() => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(r.stdout.trim());
  return Number.isFinite(n) && n > 0 ? n : 100;
})();

/** `pid` and all its descendants. */
export function processTree(pid: number): number[] {
  const out: number[] = [];
  const visit = (p: number) => {
    out.push(p);
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      return;
    }
    for (const t of tasks) {
      let kids = '';
      try {
        kids = readFileSync(`/proc/${p}/task/${t}/children`, 'utf8');
      } catch {
        continue;
      }
      for (const k of kids.trim().split(/\s+/).filter(Boolean)) visit(Number(k));
    }
  };
  visit(pid);
  return out;
}

/** utime + stime of the process tree, in seconds. */
export function cpuSeconds(pid: number): number {
  let ticks = 0;
  for (const p of processTree(pid)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]); // fields 14 and 15 of proc(5)
    } catch {
      // gone meanwhile
    }
  }
  return ticks / CLK_TCK;
}

/** Resident memory of the process tree (sum of VmRSS), in bytes. */
export function rssBytes(pid: number): number {
  let kb = 0;
  for (const p of processTree(pid)) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      kb += Number(m?.[1] ?? 0);
    } catch {
      // gone meanwhile
    }
  }
  return kb * 1024;
}

/** Busy time (user + nice + system) of one CPU since boot, in seconds; irq and softirq excluded. */
export function cpuBusySeconds(cpu: number): number {
  const line = readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`cpu${cpu} `));
  if (!line) return NaN;
  const f = line.split(/\s+/).slice(1).map(Number);
  return (f[0]! + f[1]! + f[2]!) / CLK_TCK;
}

/** The 1-minute load average. */
export function loadAverage(): number {
  return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
}

/** Stops a child (SIGTERM, then SIGKILL after `graceMs`) and waits for it. */
export async function stopChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(t);
}
