// Data-plane benchmark: the gatefleet gateway (`gatefleet gateway`, a real
// process configured over xDS by gatefleet's own translator and XdsServer
// running in this process) against nginx and HAProxy from Debian's packages
// (installed on demand), side by side in one run on loopback, all proxying
// the same route (same Host, path and added headers) to the same backend.
//
// Measurement rules (shared notes, performance anchors §8): the proxy under
// test is pinned to CPU 0, wrk and the backend (and this process) to CPU 1;
// 2 s warm-up, 10 s runs, 3 interleaved repetitions (gatefleet, nginx,
// HAProxy, gatefleet, …), median and range; the proxy's CPU is utime+stime
// from /proc over the run, its RSS is read at the end of the run. The
// machine is shared: before a pinned run the benchmark waits (within a
// budget) for other processes to leave CPU 0 idle, measures again (within
// another) a run they disturbed, and reports their share of CPU 0 and each
// proxy's requests per CPU-second (requests/s ÷ its CPU), which holds up
// when the proxy gets less than a whole core.
//
// Route scaling: a fresh gateway holding one route is sent 10, 1,000 or
// 5,000 HTTPRoutes (one hostname each, the benchmarked route among them);
// apply time runs from the snapshot's hand-over to the xDS server (after it
// was built) until the gateway has ACKed it completely (the node registry's
// appliedVersion), then RSS and wrk c=50 on the benchmarked route.
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  canPin,
  ensureCommands,
  freePort,
  pinProcess,
  restoreMask,
  rssBytes,
  stopChild,
  which,
} from './load-tools.js';
import { fmt, median } from './stats.js';
import {
  CONNECTIONS,
  CPU_PROF_DIR,
  LOAD_CPU,
  PHASES,
  PROXIES,
  PROXY_CPU,
  REPEATS,
  SIZES,
} from './gateway-bench-settings.js';
import {
  clusterObjects,
  ControlPlane,
  gatewayMemory,
  irOf,
  startGateway,
} from './gateway-bench-fleet.js';
import {
  haproxyConfig,
  haproxyVersion,
  NODE_BACKEND,
  nginxBackendConfig,
  nginxProxyConfig,
  nginxVersion,
} from './gateway-bench-peers.js';
import {
  launch,
  measure,
  measureQuiet,
  resetQuietBudget,
  sleep,
  until200,
  untilListening,
  type Sample,
} from './gateway-bench-measure.js';
import {
  render,
  targets,
  type GatewayBenchRows,
  type GatewayScalingRow,
  type GatewayThroughputRow,
  type ProxyId,
} from './gateway-bench-report.js';

export type {
  GatewayBenchRows,
  GatewayScalingRow,
  GatewayThroughputRow,
} from './gateway-bench-report.js';

export async function runGatewayBench(): Promise<{ rows: GatewayBenchRows; markdown: string }> {
  const rows: GatewayBenchRows = {
    date: new Date().toISOString(),
    pinned: false,
    backend: '',
    versions: { node: process.version },
    notRun: [],
    throughput: [],
    scaling: [],
    targets: [],
  };
  resetQuietBudget();
  const { missing } = ensureCommands([
    { cmd: 'wrk', packages: ['wrk'] },
    { cmd: 'nginx', packages: ['nginx-light', 'nginx'] },
    { cmd: 'haproxy', packages: ['haproxy'] },
  ]);
  for (const m of missing) rows.notRun.push({ what: m.cmd, why: m.why });
  const has = (cmd: string) => !missing.some((m) => m.cmd === cmd) && which(cmd) !== undefined;
  if (!has('wrk')) return { rows, markdown: render(rows) };
  if (has('nginx')) rows.versions.nginx = nginxVersion();
  if (has('haproxy')) rows.versions.haproxy = haproxyVersion();

  const pin = canPin();
  rows.pinned = pin;
  const proxyCpu = pin ? PROXY_CPU : undefined;
  const loadCpu = pin ? LOAD_CPU : undefined;
  // This process (the xDS server, idle during runs) stays off the proxies' core.
  const mask = pin ? pinProcess(process.pid, LOAD_CPU) : undefined;

  const dir = mkdtempSync(join(tmpdir(), 'gatefleet-gateway-bench-'));
  const children: ChildProcess[] = [];
  const cp = new ControlPlane();
  try {
    await cp.start();
    const backendPort = await freePort();
    const gwPort = await freePort();
    let backend: ChildProcess;
    if (has('nginx')) {
      const bdir = join(dir, 'backend');
      mkdirSync(bdir, { recursive: true });
      writeFileSync(join(bdir, 'nginx.conf'), nginxBackendConfig(bdir, backendPort));
      backend = launch(
        'nginx',
        ['-p', bdir, '-e', join(bdir, 'error.log'), '-c', join(bdir, 'nginx.conf')],
        loadCpu,
      );
      rows.backend = `nginx ${rows.versions.nginx} (1 worker, \`return 200\` with a 64-byte body)`;
    } else {
      backend = launch(process.execPath, ['-e', NODE_BACKEND, String(backendPort)], loadCpu);
      rows.backend = 'Node.js http server (64-byte body)';
    }
    children.push(backend);
    await untilListening(backendPort, 'backend');

    if (PHASES.includes('throughput')) {
      rows.throughput = await throughputPhase(
        cp,
        dir,
        gwPort,
        backendPort,
        backend,
        has,
        proxyCpu,
        loadCpu,
      );
    }
    if (PHASES.includes('scaling')) {
      rows.scaling = await scalingPhase(cp, gwPort, backendPort, proxyCpu, loadCpu);
    }
  } finally {
    for (const c of children.reverse()) await stopChild(c);
    await cp.close();
    if (pin) restoreMask(process.pid, mask);
    rmSync(dir, { recursive: true, force: true });
  }
  rows.targets = targets(rows);
  return { rows, markdown: render(rows) };
}

interface Target {
  id: ProxyId;
  label: string;
  address: string;
  port: number;
  pid: () => number;
  connections: number[];
}

async function throughputPhase(
  cp: ControlPlane,
  dir: string,
  gwPort: number,
  backendPort: number,
  backend: ChildProcess,
  has: (cmd: string) => boolean,
  proxyCpu: string | undefined,
  loadCpu: string | undefined,
): Promise<GatewayThroughputRow[]> {
  const children: ChildProcess[] = [];
  try {
    return await throughputRuns(
      cp,
      dir,
      gwPort,
      backendPort,
      backend,
      has,
      proxyCpu,
      loadCpu,
      children,
    );
  } finally {
    for (const c of children.reverse()) await stopChild(c);
  }
}

async function throughputRuns(
  cp: ControlPlane,
  dir: string,
  gwPort: number,
  backendPort: number,
  backend: ChildProcess,
  has: (cmd: string) => boolean,
  proxyCpu: string | undefined,
  loadCpu: string | undefined,
  children: ChildProcess[],
): Promise<GatewayThroughputRow[]> {
  const { version } = cp.publish(irOf(clusterObjects(SIZES[0] ?? 10, gwPort, backendPort)));
  const targets: Target[] = [];

  const gf = await startGateway(cp, version, '127.0.0.1', {
    cpus: proxyCpu,
    ...(CPU_PROF_DIR ? { cpuProf: CPU_PROF_DIR } : {}),
  });
  children.push(gf.child);
  await until200('127.0.0.1', gwPort, 'gatefleet gateway', gf.child);
  targets.push({
    id: 'gatefleet',
    label: 'gatefleet gateway (1 worker)',
    address: '127.0.0.1',
    port: gwPort,
    pid: () => gf.child.pid!,
    connections: CONNECTIONS,
  });

  if (has('nginx') && PROXIES.includes('nginx')) {
    const ndir = join(dir, 'nginx');
    mkdirSync(ndir, { recursive: true });
    const port = await freePort();
    writeFileSync(join(ndir, 'nginx.conf'), nginxProxyConfig(ndir, port, backendPort));
    const n = launch(
      'nginx',
      ['-p', ndir, '-e', join(ndir, 'error.log'), '-c', join(ndir, 'nginx.conf')],
      proxyCpu,
    );
    children.push(n);
    await until200('127.0.0.1', port, 'nginx', n);
    targets.push({
      id: 'nginx',
      label: `nginx ${nginxVersion()} (worker_processes 1)`,
      address: '127.0.0.1',
      port,
      pid: () => n.pid!,
      connections: CONNECTIONS,
    });
  }
  if (has('haproxy') && PROXIES.includes('haproxy')) {
    const port = await freePort();
    const cfg = join(dir, 'haproxy.cfg');
    writeFileSync(cfg, haproxyConfig(port, backendPort));
    const h = launch('haproxy', ['-db', '-f', cfg], proxyCpu);
    children.push(h);
    await until200('127.0.0.1', port, 'HAProxy', h);
    targets.push({
      id: 'haproxy',
      label: `HAProxy ${haproxyVersion()} (nbthread 1)`,
      address: '127.0.0.1',
      port,
      pid: () => h.pid!,
      connections: CONNECTIONS,
    });
  }
  // Two workers on 127.0.0.2 (same node group and port): both cores, shared with wrk and the backend.
  if (PROXIES.includes('gatefleet-w2')) {
    // Both cores (explicitly: children would inherit this process's CPU 1).
    const both = proxyCpu === undefined ? {} : { cpus: `${PROXY_CPU},${LOAD_CPU}` };
    const w2 = await startGateway(cp, version, '127.0.0.2', { workers: 2, ...both });
    children.push(w2.child);
    await until200('127.0.0.2', gwPort, 'gatefleet gateway --workers 2', w2.child);
    targets.push({
      id: 'gatefleet-w2',
      label:
        'gatefleet gateway --workers 2 (both cores, shared with wrk and backend: not comparable)',
      address: '127.0.0.2',
      port: gwPort,
      pid: () => w2.child.pid!,
      connections: [50],
    });
  }
  if (PROXIES.includes('direct'))
    targets.push({
      id: 'direct',
      label: 'backend alone, no proxy (ceiling of wrk + backend on CPU 1; one run)',
      address: '127.0.0.1',
      port: backendPort,
      pid: () => backend.pid!,
      connections: CONNECTIONS,
    });

  const samples = new Map<string, Sample[]>();
  for (let rep = 0; rep < REPEATS; rep++) {
    for (const c of CONNECTIONS) {
      for (const t of targets) {
        if (!t.connections.includes(c) || !PROXIES.includes(t.id)) continue;
        if (t.id === 'direct' && rep > 0) continue; // a ceiling check: once is enough
        const pinnedProxy = t.id === 'gatefleet' || t.id === 'nginx' || t.id === 'haproxy';
        const s = await (pinnedProxy ? measureQuiet : measure)(
          t.address,
          t.port,
          c,
          t.pid(),
          loadCpu,
        );
        const k = `${t.id}/${c}`;
        samples.set(k, [...(samples.get(k) ?? []), s]);
        process.stderr.write(
          `gateway bench: ${t.id} c=${c} run ${rep + 1}: ${fmt(s.rps, 0)} req/s, ` +
            `p50 ${fmt(s.p50Ms, 3)} ms, p99 ${fmt(s.p99Ms, 3)} ms, CPU ${fmt(s.cpuPct, 0)} %, ` +
            `RSS ${fmt(s.rssMb)} MB${s.errors ? `, ${s.errors} errors` : ''} ` +
            `(others on CPU 0: ${fmt(s.foreignPct, 0)} %, load ${s.load})\n`,
        );
      }
    }
  }
  const out: GatewayThroughputRow[] = [];
  for (const t of targets) {
    for (const c of CONNECTIONS) {
      const ss = samples.get(`${t.id}/${c}`);
      if (!ss) continue;
      const rps = ss.map((s) => s.rps);
      out.push({
        proxy: t.id,
        label: t.label,
        connections: c,
        runs: ss.length,
        rpsMedian: median(rps),
        rpsMin: Math.min(...rps),
        rpsMax: Math.max(...rps),
        p50Ms: median(ss.map((s) => s.p50Ms)),
        p99Ms: median(ss.map((s) => s.p99Ms)),
        cpuPct: median(ss.map((s) => s.cpuPct)),
        rssMb: median(ss.map((s) => s.rssMb)),
        rpsPerCore: median(ss.map((s) => s.rps / (s.cpuPct / 100))),
        foreignPct: median(ss.map((s) => s.foreignPct)),
        errors: ss.reduce((a, s) => a + s.errors, 0),
        loadAvg: ss.map((s) => s.load),
      });
    }
  }
  return out;
}

async function scalingPhase(
  cp: ControlPlane,
  gwPort: number,
  backendPort: number,
  proxyCpu: string | undefined,
  loadCpu: string | undefined,
): Promise<GatewayScalingRow[]> {
  const base = irOf(clusterObjects(1, gwPort, backendPort));
  const irs = new Map(SIZES.map((n) => [n, irOf(clusterObjects(n, gwPort, backendPort))]));
  interface Run extends Sample {
    applyMs: number;
    buildMs: number;
    idleRssMb: number;
    heapUsedMb: number;
    externalMb: number;
    loadedRssMb: number;
  }
  const runs = new Map<number, Run[]>();
  for (let rep = 0; rep < REPEATS; rep++) {
    for (const n of SIZES) {
      const first = cp.publish(base);
      const gw = await startGateway(cp, first.version, '127.0.0.1', {
        cpus: proxyCpu,
        ...(CPU_PROF_DIR ? { cpuProf: CPU_PROF_DIR } : {}),
      });
      try {
        await until200('127.0.0.1', gwPort, 'gatefleet gateway', gw.child);
        await sleep(500);
        const { version, buildMs } = cp.publish(irs.get(n)!);
        const at = await cp.applied(gw.nodeIds, version);
        const applyMs = at - cp.handedOver;
        await sleep(Number(process.env.GATEFLEET_BENCH_GW_SETTLE_MS ?? 1_500));
        const idleRssMb = rssBytes(gw.child.pid!) / 1024 / 1024;
        const mem = await gatewayMemory(gw.adminPort);
        const s = await measureQuiet('127.0.0.1', gwPort, 50, gw.child.pid!, loadCpu);
        const loadedRssMb = rssBytes(gw.child.pid!) / 1024 / 1024;
        runs.set(n, [
          ...(runs.get(n) ?? []),
          { ...s, applyMs, buildMs, idleRssMb, loadedRssMb, ...mem },
        ]);
        process.stderr.write(
          `gateway bench: ${n} routes run ${rep + 1}: apply ${fmt(applyMs, 0)} ms ` +
            `(snapshot build ${fmt(buildMs, 0)} ms before), RSS ${fmt(idleRssMb)} MB ` +
            `(V8 heap used ${fmt(mem.heapUsedMb)} of ${fmt(mem.heapTotalMb)}, external ` +
            `${fmt(mem.externalMb)}; ${fmt(loadedRssMb)} after the load), ` +
            `${fmt(s.rps, 0)} req/s c=50, p99 ${fmt(s.p99Ms, 3)} ms` +
            `${s.errors ? `, ${s.errors} errors` : ''} ` +
            `(others on CPU 0: ${fmt(s.foreignPct, 0)} %, load ${s.load})\n`,
        );
      } finally {
        await stopChild(gw.child);
      }
    }
  }
  const out: GatewayScalingRow[] = [];
  for (const n of SIZES) {
    const rs = runs.get(n)!;
    const rps = rs.map((r) => r.rps);
    const apply = rs.map((r) => r.applyMs);
    out.push({
      routes: n,
      runs: rs.length,
      rssMb: median(rs.map((r) => r.idleRssMb)),
      heapUsedMb: median(rs.map((r) => r.heapUsedMb)),
      externalMb: median(rs.map((r) => r.externalMb)),
      loadedRssMb: median(rs.map((r) => r.loadedRssMb)),
      applyMs: median(apply),
      applyMsMin: Math.min(...apply),
      applyMsMax: Math.max(...apply),
      snapshotBuildMs: median(rs.map((r) => r.buildMs)),
      rpsMedian: median(rps),
      rpsMin: Math.min(...rps),
      rpsMax: Math.max(...rps),
      p99Ms: median(rs.map((r) => r.p99Ms)),
      changePct: 0,
      rpsPerCore: median(rs.map((r) => r.rps / (r.cpuPct / 100))),
      foreignPct: median(rs.map((r) => r.foreignPct)),
      errors: rs.reduce((a, r) => a + r.errors, 0),
      loadAvg: rs.map((r) => r.load),
    });
  }
  const ref = out[0]!.rpsMedian;
  for (const r of out) r.changePct = ((r.rpsMedian - ref) / ref) * 100;
  return out;
}
