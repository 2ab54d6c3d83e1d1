// Helpers of the control-plane benchmarks (propagation-bench.ts, CP-1, and
// route-churn-bench.ts, CP-2): the real product (`gatefleet run` on a
// directory, with its own local gateway process), a backend, Gateway API
// YAML, an HTTP probe, and small statistics.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, stopChild, which } from './load-tools.js';

export const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Wall clock in ms with sub-ms resolution (comparable with other processes' Date.now()). */
export const wallNow = () => performance.timeOrigin + performance.now();

/** Percentile with linear interpolation between ranks (numpy's default), so p99 of 20 samples is not simply the max. */
export function pct(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const r = (p / 100) * (s.length - 1);
  const lo = Math.floor(r);
  const hi = Math.min(s.length - 1, lo + 1);
  return s[lo]! + (s[hi]! - s[lo]!) * (r - lo);
}

export interface ProbeResult {
  status: number; // 0: socket error or timeout
  error?: string;
  headers?: Record<string, string | string[] | undefined>;
  body?: string;
}

/** One GET on a new TCP connection (no keep-alive), with the given Host. */
export function probe(
  address: string,
  port: number,
  host: string,
  path = '/',
  timeoutMs = 2_000,
): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const req = request(
      { host: address, port, path, headers: { host }, agent: false, timeout: timeoutMs },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', (e) => resolve({ status: 0, error: e.message }));
      },
    );
    req.on('error', (e) => resolve({ status: 0, error: e.message }));
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

/** Polls until `ok(status)` (every 20 ms, up to `ms`), else throws. */
export async function waitStatus(
  address: string,
  port: number,
  host: string,
  ok: (s: number) => boolean,
  what: string,
  ms = 120_000,
): Promise<void> {
  const end = Date.now() + ms;
  let last: ProbeResult = { status: -1 };
  while (Date.now() < end) {
    last = await probe(address, port, host);
    if (ok(last.status)) return;
    await sleep(20);
  }
  throw new Error(`${what}: ${host} on ${address}:${port} still answers ${last.status}`);
}

// ---------------------------------------------------------------- backend

/**
 * The backend(s): nginx (one worker) answering 200 on each port with its
 * name, the request's x-churn header echoed in `x-seen-churn`, and
 * `x-backend: <name>`; a Node HTTP server doing the same without nginx.
 */
export async function startBackend(
  dir: string,
  ports: { name: string; port: number }[],
  cpus?: string,
): Promise<{ child: ChildProcess; what: string }> {
  mkdirSync(dir, { recursive: true });
  let cmd: string;
  let args: string[];
  let what: string;
  if (which('nginx')) {
    const temps = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
      .map((t) => `  ${t}_temp_path ${dir}/${t};`)
      .join('\n');
    const servers = ports
      .map(
        (p) => `  server {
    listen 127.0.0.1:${p.port} backlog=4096;
    location / {
      add_header x-backend ${p.name} always;
      add_header x-seen-churn "$http_x_churn" always;
      return 200 "${p.name}\\n";
    }
  }`,
      )
      .join('\n');
    writeFileSync(
      join(dir, 'nginx.conf'),
      `daemon off;\nmaster_process on;\nworker_processes 1;\npid ${dir}/nginx.pid;\n` +
        `error_log ${dir}/error.log warn;\nevents { worker_connections 4096; }\n` +
        `http {\n  access_log off;\n${temps}\n  default_type text/plain;\n` +
        `  keepalive_requests 10000000;\n  keepalive_timeout 120s;\n${servers}\n}\n`,
    );
    cmd = 'nginx';
    args = ['-p', dir, '-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf')];
    what = 'nginx (1 worker, `return 200`)';
  } else {
    const src = `const http = require('node:http');
for (const [name, port] of ${JSON.stringify(ports.map((p) => [p.name, p.port]))}) {
  const s = http.createServer((req, res) => {
    req.resume();
    const h = { 'content-type': 'text/plain', 'x-backend': name };
    if (req.headers['x-churn']) h['x-seen-churn'] = req.headers['x-churn'];
    res.writeHead(200, h);
    res.end(name + '\\n');
  });
  s.keepAliveTimeout = 120000;
  s.listen(port, '127.0.0.1');
}`;
    cmd = process.execPath;
    args = ['-e', src];
    what = 'Node.js http server';
  }
  const [c, a] = cpus === undefined ? [cmd, args] : ['taskset', ['-c', cpus, cmd, ...args]];
  const child = spawn(c, a, { stdio: ['ignore', 'ignore', 'pipe'] });
  for (const p of ports) {
    await waitStatus('127.0.0.1', p.port, 'backend', (s) => s === 200, `backend ${p.name}`, 10_000);
  }
  return { child, what };
}

// ---------------------------------------------------------------- Gateway API YAML

/** GatewayClass, the namespace `apps` and a Gateway `infra/bench` with one HTTP listener. */
export function gatewayYaml(port: number): string {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: { name: bench }
spec: { controllerName: gatefleet.io/gateway-controller }
---
apiVersion: v1
kind: Namespace
metadata: { name: infra }
---
apiVersion: v1
kind: Namespace
metadata: { name: apps }
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: bench, namespace: infra }
spec:
  gatewayClassName: bench
  listeners:
    - name: http
      port: ${port}
      protocol: HTTP
      allowedRoutes: { namespaces: { from: All } }
`;
}

/** A Service `name` in `apps` and its EndpointSlice: one ready endpoint 127.0.0.1:`port`. */
export function serviceYaml(name: string, port: number): string {
  return `apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: apps }
spec: { ports: [{ name: http, port: 80 }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: ${name}-local
  namespace: apps
  labels: { kubernetes.io/service-name: ${name} }
addressType: IPv4
ports: [{ name: http, port: ${port} }]
endpoints:
  - addresses: ['127.0.0.1']
    conditions: { ready: true }
`;
}

/** An HTTPRoute on infra/bench: Host `host`, PathPrefix /, request and response header filters. */
export function routeYaml(
  name: string,
  host: string,
  service: string,
  value: string,
  headerName = 'x-route',
): string {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name}, namespace: apps }
spec:
  parentRefs: [{ name: bench, namespace: infra }]
  hostnames: ['${host}']
  rules:
    - matches: [{ path: { type: PathPrefix, value: / } }]
      filters:
        - type: RequestHeaderModifier
          requestHeaderModifier: { set: [{ name: ${headerName}, value: '${value}' }] }
        - type: ResponseHeaderModifier
          responseHeaderModifier: { set: [{ name: ${headerName}-resp, value: '${value}' }] }
      backendRefs: [{ name: ${service}, port: 80 }]
`;
}

// ---------------------------------------------------------------- gatefleet run

export interface TranslatedLog {
  /** Wall-clock ms when the translation ended (pino `time`). */
  time: number;
  ms: number;
}

export interface Gatefleet {
  child: ChildProcess;
  adminPort: number;
  /** The local gateway's address (127.0.10.x) and pid. */
  address: string;
  gatewayPid: number;
  /** Every `translated` log line so far (end time and duration). */
  translations: TranslatedLog[];
  tail: () => string;
  stop: () => Promise<void>;
}

interface FleetView {
  nodeGroups: {
    name: string;
    version: string;
    address?: string;
    process?: { pid?: number };
    nodes: { appliedVersion?: string }[];
  }[];
}

export async function fleetView(adminPort: number): Promise<FleetView | undefined> {
  const r = await new Promise<ProbeResult>((resolve) => {
    const req = request({ host: '127.0.0.1', port: adminPort, path: '/fleet' }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', (e) => resolve({ status: 0, error: e.message }));
    req.end();
  });
  return r.status === 200 ? (JSON.parse(r.body!) as FleetView) : undefined;
}

/**
 * A preload script (NODE_OPTIONS does not take --cpu-prof on Node 20, and the
 * gateway is started by `gatefleet run`): the inspector's sampling profiler,
 * written to `<dir>/<command>-<pid>.cpuprofile` when the process exits.
 */
function profilerPreload(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'cpu-profile-preload.cjs');
  writeFileSync(
    file,
    `const inspector = require('node:inspector');
const fs = require('node:fs');
const s = new inspector.Session();
s.connect();
s.post('Profiler.enable');
s.post('Profiler.setSamplingInterval', { interval: 500 });
s.post('Profiler.start');
process.on('exit', () => {
  s.post('Profiler.stop', (err, r) => {
    if (err) return;
    const name = (process.argv[2] || 'node') + '-' + process.pid + '.cpuprofile';
    fs.writeFileSync(${JSON.stringify(dir)} + '/' + name, JSON.stringify(r.profile));
  });
});
`,
  );
  return file;
}

/**
 * `gatefleet run --config <dir>` as a user runs it (its own gateway process,
 * drain 1 s so stopping is quick). GATEFLEET_BENCH_CP_CPU_PROF=<dir>
 * profiles the controller and its gateway: each writes a .cpuprofile there
 * when it exits. Resolves once the gateway applied the config.
 */
export async function startGatefleet(
  config: string,
  stateDir: string,
  firstAddress: string,
): Promise<Gatefleet> {
  const xds = await freePort();
  const admin = await freePort();
  const prof = process.env.GATEFLEET_BENCH_CP_CPU_PROF;
  const env: NodeJS.ProcessEnv = { ...process.env, GATEFLEET_DRAIN_SECONDS: '1' };
  if (prof) env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --require ${profilerPreload(prof)}`;
  const args = [CLI, 'run', '--config', config, '--xds', `127.0.0.1:${xds}`];
  args.push('--admin', `127.0.0.1:${admin}`, '--state-dir', stateDir);
  args.push('--first-address', firstAddress);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  let tail = '';
  const translations: TranslatedLog[] = [];
  let partial = '';
  child.stdout!.on('data', (d: Buffer) => {
    const text = partial + d.toString();
    const lines = text.split('\n');
    partial = lines.pop()!;
    for (const l of lines) {
      tail = (tail + l + '\n').slice(-4_000);
      if (!l.includes('"translated"')) continue;
      const o = JSON.parse(l) as { time: number; ms: number };
      translations.push({ time: o.time, ms: o.ms });
    }
  });
  child.stderr!.on('data', (d: Buffer) => (tail = (tail + d.toString()).slice(-4_000)));
  const gf: Gatefleet = {
    child,
    adminPort: admin,
    address: '',
    gatewayPid: 0,
    translations,
    tail: () => tail,
    stop: async () => {
      await stopChild(child, 30_000);
      // The gateway is detached: make sure the one this run started is gone.
      if (gf.gatewayPid) {
        try {
          process.kill(gf.gatewayPid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    },
  };
  const end = Date.now() + 600_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`gatefleet run exited: ${tail}`);
    if (Date.now() > end) {
      await gf.stop();
      throw new Error(`gatefleet run: no gateway applied its configuration: ${tail}`);
    }
    const f = await fleetView(admin).catch(() => undefined);
    const g = f?.nodeGroups[0];
    if (g?.address && g.process?.pid && g.nodes.length > 0) {
      gf.address = g.address;
      gf.gatewayPid = g.process.pid;
      if (g.nodes.every((n) => n.appliedVersion === g.version)) return gf;
    }
    await sleep(100);
  }
}

/** The version of a package's command, for the report. */
export function versionOf(cmd: string, args: string[], re: RegExp): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return re.exec(`${r.stdout}${r.stderr}`)?.[1] ?? '?';
}

/** `/proc/loadavg`'s three numbers. */
export function loadAverages(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}
