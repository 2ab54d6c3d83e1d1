// gatefleet's side of the benchmark: the cluster objects translated by its own
// translator, its control plane (snapshot cache and xDS server) in this
// process, and the `gatefleet gateway` processes it configures.
import type { ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { inputsOf, translate } from '../controller/translator/index.js';
import type { IR } from '../controller/ir/types.js';
import { SnapshotCache } from '../xds/cache.js';
import { publishIR } from '../xds/publish.js';
import { XdsServer } from '../xds/server/ads-server.js';
import { GATEWAY_NODE_FLAGS } from '../gateway/node-flags.js';
import { generateCluster } from './fixtures.js';
import { freePort, stopChild } from './load-tools.js';
import { HOST, PATH } from './gateway-bench-settings.js';
import { launch, tailOf } from './gateway-bench-measure.js';

const NOW = '2026-01-01T00:00:00Z';
const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));
const NODE_GROUP = 'infra/gw-0';

/**
 * `routes` HTTPRoutes on one Gateway (node group infra/gw-0) with one HTTP
 * listener on `port`: the benchmarked route (Host bench.gw0.example.com,
 * PathPrefix /, to a Service whose endpoint is the backend) and routes − 1
 * routes of the shared fixtures (one hostname each, two rules, header
 * matches and modifiers, two backend ports; endpoints never contacted).
 */
export function clusterObjects(
  routes: number,
  port: number,
  backendPort: number,
): Record<string, unknown>[] {
  const objs = generateCluster({ routes: routes - 1, gateways: 1 });
  const gw = objs.find((o) => o.kind === 'Gateway') as { spec: { listeners: unknown[] } };
  gw.spec.listeners = [
    {
      name: 'http',
      port,
      protocol: 'HTTP',
      hostname: '*.gw0.example.com',
      allowedRoutes: {
        namespaces: { from: 'Selector', selector: { matchLabels: { 'bench/tenant': 'true' } } },
      },
    },
  ];
  const ns = 'team-0';
  objs.push(
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'bench', namespace: ns, creationTimestamp: NOW },
      spec: {
        parentRefs: [{ name: 'gw-0', namespace: 'infra' }],
        hostnames: [HOST],
        rules: [
          {
            matches: [{ path: { type: 'PathPrefix', value: PATH } }],
            backendRefs: [{ name: 'bench-backend', port: 80 }],
          },
        ],
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'bench-backend', namespace: ns },
      spec: { ports: [{ name: 'http', port: 80 }] },
    },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: 'bench-backend-0',
        namespace: ns,
        labels: { 'kubernetes.io/service-name': 'bench-backend' },
      },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: backendPort }],
      endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }],
    },
  );
  return objs;
}

export function irOf(objs: Record<string, unknown>[]): IR {
  return translate(inputsOf(objs), { now: NOW }).ir;
}

/** gatefleet's control plane in this process: snapshots of infra/gw-0 and the xDS server. */
export class ControlPlane {
  readonly cache = new SnapshotCache();
  server!: XdsServer;
  port = 0;
  /** performance.now() when publishIR() last handed its snapshots to the cache. */
  handedOver = 0;

  constructor() {
    const publish = this.cache.publish.bind(this.cache);
    this.cache.publish = (next) => {
      this.handedOver = performance.now();
      return publish(next);
    };
  }

  async start(): Promise<void> {
    this.server = new XdsServer({ cache: this.cache });
    this.port = await this.server.listen('127.0.0.1:0');
  }

  /** Publishes `ir`; returns the version of infra/gw-0 and how long the snapshot build took. */
  publish(ir: IR): { version: string; buildMs: number } {
    const t = performance.now();
    const r = publishIR(ir, this.cache);
    if (r.rejected.length > 0) throw new Error(`snapshot rejected: ${JSON.stringify(r.rejected)}`);
    const version = this.cache.get(NODE_GROUP)?.version;
    if (!version) throw new Error(`no snapshot for ${NODE_GROUP}`);
    return { version, buildMs: this.handedOver - t };
  }

  /** Resolves with performance.now() once every node of `ids` has applied `version`. */
  applied(ids: string[], version: string, timeoutMs = 120_000): Promise<number> {
    const nodes = this.server.nodes;
    const done = () => ids.every((id) => nodes.get(id)?.appliedVersion === version);
    if (done()) return Promise.resolve(performance.now());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`gateway did not apply ${version} within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = nodes.onChange(() => {
        if (!done()) return;
        const at = performance.now();
        clearTimeout(timer);
        off();
        resolve(at);
      });
    });
  }

  close(): Promise<void> {
    return this.server.close();
  }
}

let gatewaySeq = 0;

export interface RunningGateway {
  child: ChildProcess;
  nodeIds: string[];
  adminPort: number;
}

/** The gateway's own memory figures from its /stats (prom-client's process metrics), in MB. */
export async function gatewayMemory(
  adminPort: number,
): Promise<{ heapUsedMb: number; heapTotalMb: number; externalMb: number }> {
  const text = await new Promise<string>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: adminPort, path: '/stats' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
  const metric = (name: string) => {
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
    return m ? Number(m[1]) / 1024 / 1024 : NaN;
  };
  return {
    heapUsedMb: metric('nodejs_heap_size_used_bytes'),
    heapTotalMb: metric('nodejs_heap_size_total_bytes'),
    externalMb: metric('nodejs_external_memory_bytes'),
  };
}

/** Starts `gatefleet gateway` (pinned to `cpus` unless undefined) and waits until it applied `version`. */
export async function startGateway(
  cp: ControlPlane,
  version: string,
  bind: string,
  opts: { workers?: number; cpus?: string; cpuProf?: string },
): Promise<RunningGateway> {
  const id = `bench-gw-${++gatewaySeq}`;
  const workers = opts.workers ?? 1;
  const nodeArgs = opts.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', opts.cpuProf] : [];
  const adminPort = await freePort();
  const child = launch(
    process.execPath,
    [
      ...GATEWAY_NODE_FLAGS,
      ...nodeArgs,
      CLI,
      'gateway',
      '--xds',
      `127.0.0.1:${cp.port}`,
      '--fleet',
      NODE_GROUP,
      '--node-id',
      id,
      '--bind-address',
      bind,
      '--admin',
      `127.0.0.1:${adminPort}`,
      '--drain-seconds',
      '2',
      ...(workers > 1 ? ['--workers', String(workers)] : []),
    ],
    opts.cpus,
  );
  const nodeIds =
    workers > 1 ? Array.from({ length: workers }, (_, i) => `${id}/worker-${i}`) : [id];
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) =>
      reject(new Error(`gateway exited with ${code}: ${tailOf(child)}`)),
    ),
  );
  exited.catch(() => {});
  try {
    await Promise.race([cp.applied(nodeIds, version, 60_000), exited]);
  } catch (e) {
    await stopChild(child);
    throw e;
  }
  return { child, nodeIds, adminPort };
}
