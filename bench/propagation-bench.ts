// CP-1, new-route propagation (shared notes, performance anchors §8.2): with
// N = 10 / 1,000 / 5,000 routes present, one new route is added and the
// proxy is polled until it answers 200 for the new hostname; the same change
// is made in the same run to nginx (one more server block, `nginx -s reload`)
// and HAProxy (runtime API: `add server` into a spare backend and `add map`
// on the host → backend map), with the same backend and the same poll loop.
//
// gatefleet is the real product: `gatefleet run --config <dir>` with its own
// gateway process. The directory holds one file per route (HTTPRoute + its
// Service + EndpointSlice: one application's manifest, as GitOps
// repositories lay them out; GATEFLEET_BENCH_PROP_FILES=<n> spreads the N
// routes over n files instead), plus one file with the GatewayClass and the
// Gateway. A sample writes one new route file (new hostname, its own
// Service) with writeFileSync; t0 is performance.now() immediately before
// that call (open + write + close of ~1 KB: tens of µs). The poll loop then
// sends GET / with the new Host on a new TCP connection, waits 1 ms after
// each answer, and stops at the first 200 (t = that answer's arrival). Each
// sample then removes the route again (file deleted / server block deleted
// and reload / `del map` + `disable server`) and waits for 404, so N stays
// exact; 200 ms of quiet follow. Samples of the three proxies interleave.
//
// Errors: any answer other than 404 before the 200 (socket errors and
// timeouts included), anything but 200 in 5 probes right after it, and any
// failure of existing routes, which a second loop probes (5 hostnames in
// turn, every 5 ms) while the change propagates.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
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
  versionOf,
  waitStatus,
  type Gatefleet,
} from './control-plane-tools.js';
import { ensureCommands, freePort, stopChild, which } from './load-tools.js';
import { fmt, median, table } from './stats.js';

const env = process.env;
const SIZES = (env.GATEFLEET_BENCH_PROP_SIZES ?? '10,1000,5000').split(',').map(Number);
const SAMPLES = Number(env.GATEFLEET_BENCH_PROP_SAMPLES ?? 20);
const FILES = env.GATEFLEET_BENCH_PROP_FILES ? Number(env.GATEFLEET_BENCH_PROP_FILES) : undefined;
const PROXIES = (env.GATEFLEET_BENCH_PROP_PROXIES ?? 'gatefleet,nginx,haproxy').split(',');
const DOMAIN = 'prop.example.com';
const SAMPLE_TIMEOUT_MS = 60_000;

type ProxyId = 'gatefleet' | 'nginx' | 'haproxy';

export interface PropagationRow {
  proxy: ProxyId;
  label: string;
  routes: number;
  samples: number;
  addMs: number[];
  removeMs: number[];
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  removeP50Ms: number;
  errors: number;
  errorKinds: string[];
  /** gatefleet only: per sample, write → translation start, translate + publish, translation end → 200. */
  breakdown?: { beforeMs: number; translateMs: number; afterMs: number }[];
  load: string;
}

interface Target {
  id: ProxyId;
  label: string;
  address: string;
  port: number;
  /** Makes the change; returns t0 (performance.now() just before it) and what to await afterwards. */
  add: (k: number) => { t0: number; done: Promise<string | undefined> };
  remove: (k: number) => { t0: number; done: Promise<string | undefined> };
  gatefleet?: Gatefleet;
  stop: () => Promise<void>;
}

const existingHost = (i: number) => `r${i}.${DOMAIN}`;
const newHost = (k: number) => `new-${k}.${DOMAIN}`;

// ---------------------------------------------------------------- gatefleet

async function startGatefleetTarget(dir: string, n: number, backendPort: number): Promise<Target> {
  const config = join(dir, 'config');
  mkdirSync(config, { recursive: true });
  const port = await freePort();
  writeFileSync(join(config, '00-gateway.yaml'), gatewayYaml(port));
  const files = FILES ?? n;
  const docs: string[][] = Array.from({ length: files }, () => []);
  for (let i = 0; i < n; i++) {
    const svc = `svc-${i}`;
    docs[i % files]!.push(routeYaml(`route-${i}`, existingHost(i), svc, `r${i}`));
    docs[i % files]!.push(serviceYaml(svc, backendPort));
  }
  docs.forEach((d, f) => writeFileSync(join(config, `route-${f}.yaml`), d.join('---\n')));
  const gf = await startGatefleet(config, join(dir, 'state'), '127.0.10.201');
  await waitStatus(gf.address, port, existingHost(0), (s) => s === 200, 'gatefleet gateway');
  const file = (k: number) => join(config, `new-${k}.yaml`);
  return {
    id: 'gatefleet',
    label: 'gatefleet run (file provider → controller → xDS → gateway)',
    address: gf.address,
    port,
    gatefleet: gf,
    add: (k) => {
      const text = `${routeYaml(`new-${k}`, newHost(k), `new-${k}`, `n${k}`)}---\n${serviceYaml(`new-${k}`, backendPort)}`;
      const t0 = performance.now();
      writeFileSync(file(k), text);
      return { t0, done: Promise.resolve(undefined) };
    },
    remove: (k) => {
      const t0 = performance.now();
      unlinkSync(file(k));
      return { t0, done: Promise.resolve(undefined) };
    },
    stop: () => gf.stop(),
  };
}

// ---------------------------------------------------------------- nginx

function nginxRoute(i: number | string, host: string, backendPort: number): string {
  return `upstream be_${i} { server 127.0.0.1:${backendPort}; keepalive 2; }
server {
  listen 127.0.0.1:PORT;
  server_name ${host};
  location / {
    proxy_pass http://be_${i};
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header x-route ${i};
    add_header x-route-resp ${i};
  }
}
`;
}

async function startNginxTarget(dir: string, n: number, backendPort: number): Promise<Target> {
  const d = join(dir, 'nginx');
  mkdirSync(join(d, 'routes'), { recursive: true });
  const port = await freePort();
  const temps = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((t) => `  ${t}_temp_path ${d}/${t};`)
    .join('\n');
  const conf = join(d, 'nginx.conf');
  writeFileSync(
    conf,
    `daemon off;\nmaster_process on;\nworker_processes 1;\npid ${d}/nginx.pid;\n` +
      `error_log ${d}/error.log warn;\nevents { worker_connections 4096; }\nhttp {\n` +
      `  access_log off;\n${temps}\n  server_names_hash_max_size 65536;\n` +
      `  server_names_hash_bucket_size 128;\n` +
      `  server { listen 127.0.0.1:${port} default_server; return 404; }\n` +
      `  include ${d}/routes/*.conf;\n}\n`,
  );
  const files = FILES ?? n;
  const blocks: string[][] = Array.from({ length: files }, () => []);
  for (let i = 0; i < n; i++) blocks[i % files]!.push(nginxRoute(i, existingHost(i), backendPort));
  const withPort = (s: string) => s.replaceAll('PORT', String(port));
  blocks.forEach((b, f) =>
    writeFileSync(join(d, 'routes', `route-${f}.conf`), withPort(b.join(''))),
  );
  const args = ['-p', d, '-e', join(d, 'error.log'), '-c', conf];
  const child = spawn('nginx', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  await untilServing(child, port, 'nginx');
  const reload = () => run('nginx', [...args, '-s', 'reload']);
  const file = (k: number) => join(d, 'routes', `new-${k}.conf`);
  return {
    id: 'nginx',
    label: `nginx ${versionOf('nginx', ['-v'], /nginx\/(\S+)/)} (server block + \`nginx -s reload\`)`,
    address: '127.0.0.1',
    port,
    add: (k) => {
      const text = withPort(nginxRoute(`new_${k}`, newHost(k), backendPort));
      const t0 = performance.now();
      writeFileSync(file(k), text);
      return { t0, done: reload() };
    },
    remove: (k) => {
      const t0 = performance.now();
      unlinkSync(file(k));
      return { t0, done: reload() };
    },
    stop: () => stopChild(child),
  };
}

/** Waits until a peer serves the first route; its stderr in the error when it cannot. */
async function untilServing(child: ChildProcess, port: number, what: string): Promise<void> {
  let err = '';
  child.stderr!.on('data', (b: Buffer) => (err = (err + b.toString()).slice(-2_000)));
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`${what} exited (${code}): ${err}`))),
  );
  exited.catch(() => {});
  await Promise.race([
    exited,
    waitStatus('127.0.0.1', port, existingHost(0), (s) => s === 200, what, 60_000),
  ]);
}

/** Runs a command; resolves with an error message, or undefined when it succeeded. */
function run(cmd: string, args: string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    c.stderr.on('data', (b: Buffer) => (err += b.toString()));
    c.once('error', (e) => resolve(e.message));
    c.once('exit', (code) => resolve(code === 0 ? undefined : `${cmd} exit ${code}: ${err}`));
  });
}

// ---------------------------------------------------------------- HAProxy

/** One command line on HAProxy's runtime API (non-interactive: it answers and closes). */
function haproxyCli(sock: string, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = connect(sock, () => c.end(`${line}\n`));
    let out = '';
    c.on('data', (d: Buffer) => (out += d.toString()));
    c.on('end', () => resolve(out));
    c.on('error', reject);
  });
}

async function startHaproxyTarget(dir: string, n: number, backendPort: number): Promise<Target> {
  const d = join(dir, 'haproxy');
  mkdirSync(d, { recursive: true });
  const port = await freePort();
  const sock = join(d, 'admin.sock');
  const map = join(d, 'hosts.map');
  const lines: string[] = [];
  const backends: string[] = [];
  const backend = (name: string, value: string, server: boolean) =>
    `backend ${name}\n  balance roundrobin\n  http-request set-header x-route ${value}\n` +
    `  http-response set-header x-route-resp ${value}\n` +
    (server ? `  server s1 127.0.0.1:${backendPort}\n` : '');
  for (let i = 0; i < n; i++) {
    lines.push(`${existingHost(i)} be_${i}`);
    backends.push(backend(`be_${i}`, `r${i}`, true));
  }
  // Spare backends, no server yet: each sample's new route gets its own.
  for (let k = 0; k < SAMPLES; k++) backends.push(backend(`be_new_${k}`, `n${k}`, false));
  writeFileSync(map, `${lines.join('\n')}\n`);
  const cfg = join(d, 'haproxy.cfg');
  writeFileSync(
    cfg,
    `global\n  nbthread 1\n  maxconn 4000\n  stats socket ${sock} level admin\n\n` +
      `defaults\n  mode http\n  timeout connect 5s\n  timeout client 120s\n` +
      `  timeout server 120s\n  http-reuse always\n\n` +
      `frontend fe\n  bind 127.0.0.1:${port}\n` +
      `  use_backend %[req.hdr(host),field(1,:),lower,map(${map},no_route)]\n\n` +
      `backend no_route\n  http-request return status 404\n\n${backends.join('\n')}`,
  );
  const child = spawn('haproxy', ['-db', '-f', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
  await untilServing(child, port, 'HAProxy');
  // Anything but the usual acknowledgements is an error of the change.
  const cli = async (line: string) => {
    const out = (await haproxyCli(sock, line)).trim();
    const bad = out.split('\n').filter((l) => l.trim() && !/New server registered/.test(l));
    return bad.length ? `HAProxy runtime API: ${bad.join(' | ')}` : undefined;
  };
  return {
    id: 'haproxy',
    label: `HAProxy ${versionOf('haproxy', ['-v'], /version (\d+\.\d+\.\d+)/)} (runtime API: add server + add map)`,
    address: '127.0.0.1',
    port,
    add: (k) => {
      const line =
        `add server be_new_${k}/s1 127.0.0.1:${backendPort}; enable server be_new_${k}/s1; ` +
        `add map ${map} ${newHost(k)} be_new_${k}`;
      const t0 = performance.now();
      return { t0, done: cli(line) };
    },
    remove: (k) => {
      const line = `del map ${map} ${newHost(k)}; disable server be_new_${k}/s1`;
      const t0 = performance.now();
      return { t0, done: cli(line) };
    },
    stop: () => stopChild(child),
  };
}

// ---------------------------------------------------------------- measuring

/** Polls every 1 ms (after each answer) until `want`; other statuses than `from` are errors. */
async function pollUntil(
  t: Target,
  host: string,
  t0: number,
  want: number,
  from: number,
  errors: string[],
): Promise<{ ms: number; wall: number }> {
  for (;;) {
    const r = await probe(t.address, t.port, host);
    const now = performance.now();
    if (r.status === want) {
      const ms = now - t0;
      for (let i = 0; i < 5; i++) {
        await sleep(1);
        const again = await probe(t.address, t.port, host);
        if (again.status !== want) errors.push(`${host}: ${want} then ${again.status}`);
      }
      return { ms, wall: performance.timeOrigin + now };
    }
    if (r.status !== from) errors.push(`${host}: ${r.status}${r.error ? ` (${r.error})` : ''}`);
    if (now - t0 > SAMPLE_TIMEOUT_MS) {
      errors.push(`${host}: no ${want} after ${SAMPLE_TIMEOUT_MS} ms`);
      return { ms: NaN, wall: NaN };
    }
    await sleep(1);
  }
}

/** Probes existing routes (in turn, every 5 ms) until stopped; failures are errors. */
function watchExisting(t: Target, n: number, errors: string[]): () => Promise<void> {
  const hosts = [0, n >> 2, n >> 1, (3 * n) >> 2, n - 1].map(existingHost);
  let on = true;
  const loop = (async () => {
    for (let i = 0; on; i++) {
      const r = await probe(t.address, t.port, hosts[i % hosts.length]!);
      if (r.status !== 200) errors.push(`existing ${hosts[i % hosts.length]}: ${r.status}`);
      await sleep(5);
    }
  })();
  return async () => {
    on = false;
    await loop;
  };
}

interface Sample {
  addMs: number;
  removeMs: number;
  errors: string[];
  breakdown?: { beforeMs: number; translateMs: number; afterMs: number };
}

async function sample(t: Target, n: number, k: number): Promise<Sample> {
  const errors: string[] = [];
  const host = newHost(k);
  const stopWatch = watchExisting(t, n, errors);
  const before = t.gatefleet?.translations.length ?? 0;
  const add = t.add(k);
  const t0Wall = performance.timeOrigin + add.t0;
  const added = await pollUntil(t, host, add.t0, 200, 404, errors);
  const addErr = await add.done;
  if (addErr) errors.push(addErr);
  let breakdown: Sample['breakdown'];
  const tr = t.gatefleet?.translations.slice(before).filter((x) => x.time <= added.wall + 1);
  const last = tr?.[tr.length - 1];
  if (last) {
    breakdown = {
      beforeMs: last.time - last.ms - t0Wall,
      translateMs: last.ms,
      afterMs: added.wall - last.time,
    };
  }
  const rm = t.remove(k);
  const removed = await pollUntil(t, host, rm.t0, 404, 200, errors);
  const rmErr = await rm.done;
  if (rmErr) errors.push(rmErr);
  await stopWatch();
  await sleep(200);
  return {
    addMs: added.ms,
    removeMs: removed.ms,
    errors,
    ...(breakdown ? { breakdown } : {}),
  };
}

/** An error without its hostname, so that kinds can be counted. */
const errorKind = (e: string) =>
  e.replace(/^new-\d+\.\S+?:/, 'new route:').replace(/^existing r\d+\.\S+?:/, 'existing route:');

function countKinds(errs: string[]): string[] {
  const m = new Map<string, number>();
  for (const e of errs) m.set(errorKind(e), (m.get(errorKind(e)) ?? 0) + 1);
  return [...m].map(([k, n]) => `${n}× ${k}`);
}

async function benchSize(n: number, backendPort: number, dir: string): Promise<PropagationRow[]> {
  const targets: Target[] = [];
  const load = loadAverages();
  try {
    if (PROXIES.includes('gatefleet'))
      targets.push(await startGatefleetTarget(join(dir, `gf-${n}`), n, backendPort));
    if (PROXIES.includes('nginx') && which('nginx'))
      targets.push(await startNginxTarget(join(dir, `ng-${n}`), n, backendPort));
    if (PROXIES.includes('haproxy') && which('haproxy'))
      targets.push(await startHaproxyTarget(join(dir, `hp-${n}`), n, backendPort));
    await sleep(1_000);
    const samples = new Map<ProxyId, Sample[]>(targets.map((t) => [t.id, []]));
    for (let k = 0; k < SAMPLES; k++) {
      for (const t of targets) {
        const s = await sample(t, n, k);
        samples.get(t.id)!.push(s);
        const b = s.breakdown;
        process.stderr.write(
          `propagation ${n} routes, ${t.id} #${k + 1}: add ${fmt(s.addMs)} ms, remove ${fmt(s.removeMs)} ms` +
            (b
              ? ` (before translation ${fmt(b.beforeMs, 0)}, translate ${fmt(b.translateMs, 0)}, after ${fmt(b.afterMs, 0)})`
              : '') +
            (s.errors.length
              ? `, ${s.errors.length} errors: ${s.errors.slice(0, 3).join('; ')}`
              : '') +
            '\n',
        );
      }
    }
    return targets.map((t) => {
      const ss = samples.get(t.id)!;
      const add = ss.map((s) => s.addMs).filter(Number.isFinite);
      const errs = ss.flatMap((s) => s.errors);
      const bd = ss.flatMap((s) => (s.breakdown ? [s.breakdown] : []));
      return {
        proxy: t.id,
        label: t.label,
        routes: n,
        samples: ss.length,
        addMs: ss.map((s) => s.addMs),
        removeMs: ss.map((s) => s.removeMs),
        p50Ms: median(add),
        p99Ms: pct(add, 99),
        maxMs: Math.max(...add),
        removeP50Ms: median(ss.map((s) => s.removeMs).filter(Number.isFinite)),
        errors: errs.length,
        errorKinds: countKinds(errs),
        ...(bd.length ? { breakdown: bd } : {}),
        load,
      };
    });
  } finally {
    for (const t of targets.reverse()) await t.stop();
  }
}

export async function runPropagationBench(): Promise<{
  rows: PropagationRow[];
  markdown: string;
}> {
  ensureCommands([
    { cmd: 'nginx', packages: ['nginx-light', 'nginx'] },
    { cmd: 'haproxy', packages: ['haproxy'] },
  ]);
  const dir = mkdtempSync(join(tmpdir(), 'gatefleet-propagation-'));
  const backendPort = await freePort();
  let backend: ChildProcess | undefined;
  const rows: PropagationRow[] = [];
  let backendWhat = '';
  try {
    const b = await startBackend(join(dir, 'backend'), [{ name: 'A', port: backendPort }]);
    backend = b.child;
    backendWhat = b.what;
    for (const n of SIZES) rows.push(...(await benchSize(n, backendPort, dir)));
  } finally {
    if (backend) await stopChild(backend);
    rmSync(dir, { recursive: true, force: true });
  }
  return { rows, markdown: render(rows, backendWhat) };
}

function render(rows: PropagationRow[], backend: string): string {
  const bd = (r: PropagationRow, f: (b: NonNullable<PropagationRow['breakdown']>[0]) => number) =>
    r.breakdown ? fmt(median(r.breakdown.map(f)), 0) : '—';
  const main = table(
    [
      'proxy',
      'routes present',
      'samples',
      'new route → 200 p50 (ms)',
      'p99 (ms)',
      'max (ms)',
      'errors',
      'route deleted → 404 p50 (ms)',
      'gatefleet p50: write → translation starts / translate + publish / translated → 200 (ms)',
    ],
    rows.map((r) => [
      r.label,
      r.routes.toLocaleString('en-US'),
      r.samples,
      fmt(r.p50Ms),
      fmt(r.p99Ms),
      fmt(r.maxMs),
      r.errors ? `${r.errors} (${r.errorKinds.join('; ')})` : '0',
      fmt(r.removeP50Ms),
      r.breakdown
        ? `${bd(r, (b) => b.beforeMs)} / ${bd(r, (b) => b.translateMs)} / ${bd(r, (b) => b.afterMs)}`
        : '—',
    ]),
  );
  const lines: string[] = [main];
  const big = rows.find((r) => r.proxy === 'gatefleet' && r.routes === 5_000);
  if (big) {
    lines.push(
      `- p50 ≤ 10 ms at 5,000 routes: ${fmt(big.p50Ms)} ms: **${big.p50Ms <= 10 ? 'met' : 'not met'}**\n` +
        `- p99 ≤ 30 ms at 5,000 routes: ${fmt(big.p99Ms)} ms: **${big.p99Ms <= 30 ? 'met' : 'not met'}**\n` +
        `- 0 errors: ${rows.filter((r) => r.proxy === 'gatefleet').reduce((a, r) => a + r.errors, 0)}: ` +
        `**${rows.filter((r) => r.proxy === 'gatefleet').every((r) => r.errors === 0) ? 'met' : 'not met'}**`,
    );
  }
  const layout = FILES ? `the N routes spread over ${FILES} files` : 'one file per route';
  lines.push(
    `${SAMPLES} samples per proxy and size, interleaved; ${layout} (HTTPRoute + Service + ` +
      `EndpointSlice) for gatefleet and nginx; backend ${backend}; new TCP connection per probe, ` +
      `1 ms pause after each answer; p99 interpolated between ranks; nothing pinned; ` +
      `load average (1, 5, 15 min) at the start of each size: ` +
      `${[...new Set(rows.map((r) => `${r.routes}: ${r.load}`))].join('; ')}; Node ${process.version}.`,
  );
  return lines.join('\n\n');
}
