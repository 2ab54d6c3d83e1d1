// The upstream Gateway API conformance suite (sigs.k8s.io/gateway-api/conformance v1.6.1,
// profile GATEWAY-HTTP, unmodified) against gatefleet installed with its Helm chart on the local
// cluster (test/cluster/: real etcd, kube-apiserver, kube-controller-manager, and gatefleet's
// node agent running every pod as local processes in network namespaces). Supported features
// come from GatewayClass.status.supportedFeatures. Fails if any test fails or if core is not
// fully run; the report is kept in .cache/conformance/report.yaml and printed.
import { spawn } from 'node:child_process';
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ip, BRIDGE, LB_RANGE, NETNS_PREFIX } from '../cluster/host-network.js';
import { down, LOGS, ROOT, up, type LocalCluster } from '../cluster/local-cluster.js';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const OUT = join(ROOT, '.cache', 'conformance');
const REPORT = join(OUT, 'report.yaml');
const GO_LOG = join(OUT, 'go-test.log');
const TIMINGS = join(OUT, 'timings.txt');
const SUITE_TIMEOUT_MS = 25 * 60_000;

/**
 * GatewayStaticAddresses: an address the local cluster's load balancer hands
 * out (the last of its range; it allocates from the first up) and one it
 * never does (TEST-NET-1, outside the range), which gatefleet must report
 * AddressNotUsable.
 */
const ADDRESS_FLAGS = ['-usable-address', LB_RANGE.last, '-unusable-address', '192.0.2.1'];

let cluster: LocalCluster | undefined;

function runSuite(kubeconfig: string): Promise<number | null> {
  mkdirSync(OUT, { recursive: true });
  rmSync(REPORT, { force: true });
  const log = createWriteStream(GO_LOG);
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [join(ROOT, 'hack/conformance/run.sh'), ...ADDRESS_FLAGS], {
      cwd: ROOT,
      env: { ...process.env, KUBECONFIG: kubeconfig, GATEFLEET_CONFORMANCE_REPORT: REPORT },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    const timer = setTimeout(() => child.kill('SIGKILL'), SUITE_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      log.end();
      resolve(code);
    });
  });
}

interface TestTiming {
  name: string;
  result: string;
  /** The whole test, setup included. */
  seconds: number;
  /** The longest a request of the test was still failing before it became consistent. */
  consistencySeconds: number;
}

/** A Go duration ("1.5s", "250ms", "3.2µs", "1m2.5s") in seconds. */
function goDuration(d: string): number {
  const unit: Record<string, number> = {
    h: 3600,
    m: 60,
    s: 1,
    ms: 1e-3,
    µs: 1e-6,
    us: 1e-6,
    ns: 1e-9,
  };
  let total = 0;
  for (const m of d.matchAll(/([\d.]+)(h|ms|m|s|µs|us|ns)/g)) total += Number(m[1]) * unit[m[2]!]!;
  return total;
}

/** Per test: result, duration and time to consistency, from `go test -v` output. */
function goResults(): TestTiming[] {
  const text = readFileSync(GO_LOG, 'utf8');
  const waits = new Map<string, number>();
  let current = '';
  for (const line of text.split('\n')) {
    const run = /^=== (?:RUN|NAME|CONT) +TestGatefleetConformance\/([^/\s]+)/.exec(line);
    if (run) current = run[1]!;
    const after = /not ready yet: .* \(after ([\dhmsµun.]+)\)$/.exec(line);
    if (after && current)
      waits.set(current, Math.max(waits.get(current) ?? 0, goDuration(after[1]!)));
  }
  const out: TestTiming[] = [];
  const re = /^ {4}--- (PASS|FAIL): TestGatefleetConformance\/([^/\s]+) \(([\d.]+)s\)$/gm;
  for (const m of text.matchAll(re)) {
    const name = m[2]!;
    out.push({
      result: m[1]!,
      name,
      seconds: Number(m[3]),
      consistencySeconds: waits.get(name) ?? 0,
    });
  }
  return out;
}

function timingTable(results: TestTiming[]): string {
  const rows = [...results].sort((a, b) => b.consistencySeconds - a.consistencySeconds);
  const w = Math.max(...rows.map((r) => r.name.length), 4);
  return [
    `${'test'.padEnd(w)}  result  total s  consistent after s`,
    ...rows.map(
      (r) =>
        `${r.name.padEnd(w)}  ${r.result.padEnd(6)}  ${r.seconds.toFixed(2).padStart(7)}  ${r.consistencySeconds.toFixed(2).padStart(18)}`,
    ),
  ].join('\n');
}

describe('upstream Gateway API conformance (GATEWAY-HTTP) on the local cluster', () => {
  beforeAll(async () => {
    cluster = await up();
  }, 20 * 60_000);

  afterAll(async () => {
    cluster?.rest.close();
    await down();
  }, 120_000);

  it(
    'passes every test of every claimed feature',
    async () => {
      const t0 = Date.now();
      const code = await runSuite(cluster!.kubeconfig);
      const seconds = Math.round((Date.now() - t0) / 1000);
      const results = goResults();
      const table = timingTable(results);
      writeFileSync(TIMINGS, table + '\n');
      const failed = results.filter((r) => r.result === 'FAIL').map((r) => r.name);
      const slowest = [...results]
        .sort((a, b) => b.consistencySeconds - a.consistencySeconds)
        .slice(0, 5);
      console.log(
        `conformance: go test exited ${code} after ${seconds} s; ${results.length} tests ran, ` +
          `${failed.length} failed${failed.length ? `: ${failed.join(', ')}` : ''}; slowest to become consistent: ` +
          slowest.map((r) => `${r.name} ${r.consistencySeconds.toFixed(1)} s`).join(', ') +
          `\nper test (${TIMINGS}):\n${table}\nlogs: ${GO_LOG}, ${LOGS}`,
      );
      expect(existsSync(REPORT), `no report (see ${GO_LOG})`).toBe(true);
      const text = readFileSync(REPORT, 'utf8');
      console.log(`conformance report (${REPORT}):\n${text}`);
      const report = parse(text) as Any;
      const profile = (report.profiles as Any[]).find((p) => p.name === 'GATEWAY-HTTP') as Any;
      expect(profile, 'GATEWAY-HTTP profile in the report').toBeDefined();
      const stats = (part: Any | undefined) =>
        part?.statistics ?? { Passed: 0, Failed: 0, Skipped: 0 };
      expect(failed).toEqual([]);
      expect(stats(profile.core).Failed).toBe(0);
      expect(stats(profile.extended).Failed).toBe(0);
      expect(profile.core.result, 'every core test ran and passed').toBe('success');
      expect(code).toBe(0);
    },
    SUITE_TIMEOUT_MS + 60_000,
  );

  it('tears everything down: processes, network namespaces, the bridge', async () => {
    cluster?.rest.close();
    await down();
    cluster = undefined;
    const netns = await ip('netns', 'list');
    expect(netns.split('\n').filter((l) => l.startsWith(NETNS_PREFIX))).toEqual([]);
    expect(await ip('-o', 'link', 'show')).not.toMatch(new RegExp(`^\\d+: ${BRIDGE}[:@]`, 'm'));
  }, 120_000);
});
