// `gatefleet run`: standalone mode. Gateway API YAML from a directory, the
// controller, the xDS server, the admin API, and a local fleet: one gateway
// process per fleet or shard. What `npm start` runs.
import { GATEWAY_NODE_FLAGS } from '../gateway/node-flags.js';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { startAdminApi } from '../controller/admin/api.js';
import { ErrorCode, GatefleetError, type Diagnostic } from '../controller/errors.js';
import type { IR } from '../controller/ir/types.js';
import { FileProvider } from '../controller/providers/file-provider.js';
import { Controller } from '../controller/runtime/controller.js';
import { LocalFleet } from '../controller/runtime/local-fleet.js';
import { SnapshotCache } from '../xds/cache.js';
import { XdsServer } from '../xds/server/ads-server.js';
import { CLI_PATH } from './paths.js';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One state directory per config directory and xDS address, so restarts find their gateways. */
export function defaultStateDir(config: string, xds: string): string {
  return join(
    tmpdir(),
    `gatefleet-${createHash('sha256').update(`${config}\n${xds}`).digest('hex').slice(0, 12)}`,
  );
}

export const RUN_USAGE = `Usage: gatefleet run --config <dir> [options]

Runs gatefleet without Kubernetes: reads Gateway API YAML from <dir> (watched;
every .yaml/.yml file, multi-document), serves xDS, and runs one local gateway
process per fleet or shard, each on its own loopback address.

  --config <dir>        directory of YAML (required)
  --xds <addr:port>     xDS listen address (default 127.0.0.1:18000)
  --admin <addr:port>   admin API: /status, /fleet, /metrics (default 127.0.0.1:9090)
  --first-address <ip>  loopback address of the first fleet (default 127.0.10.1)
  --no-gateways         serve xDS only; run no local gateway processes
  --state-dir <dir>     gateway pid, address and log files (default: under the temp directory)

The gateways outlive the controller: stopping it with SIGTERM or Ctrl-C stops
them too, but if it dies they keep serving, and a controller started again on
the same directory adopts them.
`;

export interface RunOptions {
  config: string;
  /** Pid, address and log files of the local gateways (default: per config directory, under the temp dir). */
  stateDir?: string;
  xds: string;
  admin: string;
  firstAddress: string;
  gateways: boolean;
}

export function parseRunArgs(argv: string[]): RunOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      xds: { type: 'string', default: '127.0.0.1:18000' },
      admin: { type: 'string', default: '127.0.0.1:9090' },
      'first-address': { type: 'string', default: '127.0.10.1' },
      'no-gateways': { type: 'boolean', default: false },
      'state-dir': { type: 'string' },
    },
    strict: true,
  });
  if (!values.config)
    throw new GatefleetError(ErrorCode.Usage, `--config is required\n\n${RUN_USAGE}`);
  return {
    config: resolve(values.config),
    xds: values.xds!,
    admin: values.admin!,
    firstAddress: values['first-address']!,
    gateways: !values['no-gateways'],
    ...(values['state-dir'] ? { stateDir: resolve(values['state-dir']) } : {}),
  };
}

function hostPort(v: string, flag: string): { host: string; port: number } {
  const i = v.lastIndexOf(':');
  const port = Number(v.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port))
    throw new GatefleetError(ErrorCode.Usage, `${flag}: "${v}" is not host:port`);
  return { host: v.slice(0, i), port };
}

/** "Listener http-80: cannot listen ..." from a gateway → the Gateway listeners that use that port. */
export function explainListenerError(ir: IR, nodeGroup: string, message: string): string {
  const m = /^Listener (\S+): (.*)$/.exec(message);
  if (!m) return message;
  for (const f of ir.fleets) {
    for (const g of f.nodeGroups) {
      if (g.name !== nodeGroup) continue;
      const l = g.listeners.find((x) => x.name === m[1]);
      if (!l) continue;
      const sources = [...new Set(l.filterChains.flatMap((c) => c.sources))];
      const named = sources.map((s) => {
        const parts = s.split('/');
        return `Gateway ${parts[0]}/${parts[1]} listener ${parts[2]}`;
      });
      return `${named.join(', ')} (port ${l.port}): ${m[2]}`;
    }
  }
  return message;
}

export async function runStandalone(
  opts: RunOptions,
): Promise<{ stop: () => Promise<void>; xdsPort: number; adminPort: number }> {
  const log = pino({ name: 'gatefleet' });
  const cache = new SnapshotCache();
  const xds = new XdsServer({ cache, log: (level, msg, fields) => log[level](fields ?? {}, msg) });
  const xdsAddr = hostPort(opts.xds, '--xds');
  const xdsPort = await xds.listen(`${xdsAddr.host}:${xdsAddr.port}`);
  const fleet = new LocalFleet({
    command: [process.execPath, ...GATEWAY_NODE_FLAGS, CLI_PATH],
    xdsAddress: `${xdsAddr.host === '0.0.0.0' ? '127.0.0.1' : xdsAddr.host}:${xdsPort}`,
    stateDir: opts.stateDir ?? defaultStateDir(opts.config, `${xdsAddr.host}:${xdsPort}`),
    firstAddress: opts.firstAddress,
    log: (level, msg, fields) => log[level](fields ?? {}, msg),
  });
  const controller: Controller = new Controller({
    // The file provider already waits for a save's burst of events to end;
    // waiting again here would only delay every change.
    debounceMs: 1,
    cache,
    nodes: xds.nodes,
    log: (level, msg, fields) => log[level](fields ?? {}, msg),
    addressesOf: (f: string): string[] => {
      const groups = controller.ir().fleets.find((x) => x.name === f)?.nodeGroups ?? [];
      return groups.map((g) => fleet.addressOf(g.name)).filter((a): a is string => a !== undefined);
    },
  });
  const provider = new FileProvider(opts.config);
  let lastDiagnostics = '';
  const reportDiagnostics = (ds: Diagnostic[]) => {
    const text = JSON.stringify(ds);
    if (text === lastDiagnostics) return;
    lastDiagnostics = text;
    for (const d of ds) {
      const where = d.file ? `${d.file}${d.line ? `:${d.line}` : ''}` : d.object;
      log.error({ code: d.code, where, object: d.object }, `${where}: ${d.message}`);
    }
  };
  const reportedNacks = new Set<string>();
  xds.nodes.onChange(() => {
    for (const n of xds.nodes.list()) {
      for (const t of Object.values(n.types)) {
        if (!t.lastNack) continue;
        const id = `${n.id}|${t.lastNack.at}`;
        if (reportedNacks.has(id)) continue;
        reportedNacks.add(id);
        log.error(
          { node: n.id, nodeGroup: n.nodeGroup },
          explainListenerError(controller.ir(), n.nodeGroup, t.lastNack.message),
        );
      }
    }
  });
  let fileDiagnostics: Diagnostic[] = [];
  controller.onTranslated((r) => {
    reportDiagnostics([...fileDiagnostics, ...r.diagnostics]);
    if (opts.gateways) fleet.reconcile(controller.ir());
    log.info(
      {
        fleets: controller.ir().fleets.length,
        changed: r.publish.changed,
        ms: Math.round(r.durationMs),
      },
      'translated',
    );
  });
  const load = (s: ReturnType<FileProvider['read']>) => {
    fileDiagnostics = s.diagnostics;
    controller.setInputs(s.inputs);
  };
  load(provider.read());
  await controller.flush();
  provider.watch(load);

  const adminAddr = hostPort(opts.admin, '--admin');
  const admin = await startAdminApi(adminAddr.host, adminAddr.port, {
    ready: () => cache.isReady(),
    registry: xds.metrics.registry,
    status: () => ({
      resources: controller.statuses(),
      diagnostics: [...fileDiagnostics, ...controller.diagnostics()],
    }),
    fleet: () => ({
      nodeGroups: cache.nodeGroups().map((g) => ({
        name: g,
        version: cache.get(g)!.version,
        address: fleet.addressOf(g),
        process: fleet.list().find((p) => p.nodeGroup === g),
        nodes: xds.nodes.list().filter((n) => n.nodeGroup === g),
      })),
    }),
  });
  const adminPort = (admin.address() as { port: number }).port;
  log.info(
    {
      config: opts.config,
      xds: `${xdsAddr.host}:${xdsPort}`,
      admin: `${adminAddr.host}:${adminPort}`,
    },
    'gatefleet running',
  );
  return {
    xdsPort,
    adminPort,
    stop: async () => {
      provider.close();
      controller.stop();
      await fleet.stop();
      await xds.close();
      await new Promise((r) => admin.close(r));
    },
  };
}
