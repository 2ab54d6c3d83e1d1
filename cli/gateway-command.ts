// `gatefleet gateway`: runs the gatefleet gateway, configured only by the
// controller over xDS. One process, or with --workers a node:cluster primary
// supervising one gateway per worker. SIGTERM (or SIGINT) drains: stop
// accepting, finish requests in flight, exit 0.
import cluster from 'node:cluster';
import type * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import { Gateway } from '../gateway/gateway.js';
import { serveWorker, superviseWorkers, WORKER_INDEX_ENV } from '../gateway/cluster.js';
import {
  parseGatewayOptions,
  xdsChannelCredentials,
  type GatewayCliOptions,
} from './gateway-options.js';

export { GATEWAY_USAGE } from './gateway-options.js';

/** Throws GatefleetError (GF_USAGE) for bad options; everything after that is logged. */
export async function runGateway(argv: string[]): Promise<void> {
  const o = parseGatewayOptions(argv, process.env);
  const log = pino({ name: 'gatefleet-gateway' });
  if (o.workers > 1 && cluster.isPrimary) {
    // Workers re-read the same flags; they inherit the node id chosen here.
    process.env.GATEFLEET_NODE_ID = o.nodeId;
    await superviseWorkers({
      workers: o.workers,
      adminAddress: o.admin.host,
      adminPort: o.admin.port,
      drainMs: o.drainMs,
      log,
    }).catch((e: unknown) => fatal(log, e));
    return;
  }
  const workerIndex = cluster.isWorker ? process.env[WORKER_INDEX_ENV] : undefined;
  await runOne(o, workerIndex, log);
}

async function runOne(
  o: GatewayCliOptions,
  workerIndex: string | undefined,
  log: pino.Logger,
): Promise<void> {
  const nodeId = workerIndex === undefined ? o.nodeId : `${o.nodeId}/worker-${workerIndex}`;
  let notify = () => {};
  const gw = new Gateway({
    xdsAddress: o.xds,
    nodeId,
    nodeGroup: o.nodeGroup,
    mode: o.mode,
    ...(o.tls ? xdsTls(o.tls) : {}),
    ...(o.bindAddress ? { bindAddress: o.bindAddress } : {}),
    ...(o.listenAnyAddress ? { listenAnyAddress: true } : {}),
    // A worker has no admin listener: the primary serves it for all.
    ...(workerIndex === undefined ? { adminAddress: o.admin.host, adminPort: o.admin.port } : {}),
    logger: workerIndex === undefined ? log : log.child({ worker: Number(workerIndex) }),
    onStateChange: () => notify(),
  });
  let stopping = false;
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    gw.log.info({ why }, 'draining');
    gw.drain(o.drainMs).then(
      () => {
        gw.log.info('drained');
        process.exit(0);
      },
      (e: unknown) => fatal(gw.log, e),
    );
  };
  // Before start-up, so a SIGTERM during it drains rather than kills.
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  if (workerIndex !== undefined) notify = serveWorker(gw, stop);
  await gw.start().catch((e: unknown) => fatal(gw.log, e));
  gw.log.info(
    {
      nodeId,
      nodeGroup: o.nodeGroup,
      xds: o.xds,
      mode: o.mode,
      tls: o.tls !== undefined,
      adminPort: gw.adminPort(),
    },
    workerIndex === undefined ? 'gateway started' : 'worker started',
  );
}

function xdsTls(t: NonNullable<GatewayCliOptions['tls']>): {
  xdsCredentials: grpc.ChannelCredentials;
  xdsChannelOptions?: grpc.ChannelOptions;
} {
  return {
    xdsCredentials: xdsChannelCredentials(t),
    ...(t.serverName
      ? {
          xdsChannelOptions: {
            'grpc.ssl_target_name_override': t.serverName,
            'grpc.default_authority': t.serverName,
          },
        }
      : {}),
  };
}

/** A failure after the options were accepted (e.g. the admin port is taken): log, exit 1. */
function fatal(log: pino.Logger, e: unknown): never {
  log.fatal({ error: (e as Error).message ?? String(e) }, 'gateway failed');
  process.exit(1);
}
