// `gatefleet gateway`: runs the gatefleet gateway, configured only by the
// controller over xDS. Flags, or the GATEFLEET_* environment variables.
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { ErrorCode, GatefleetError } from '../controller/errors.js';
import { Gateway } from '../gateway/gateway.js';

export const GATEWAY_USAGE = `Usage: gatefleet gateway --xds <host:port> --fleet <namespace/gateway> [options]

Runs a gatefleet gateway. It keeps no configuration of its own: listeners,
routes, clusters, endpoints and certificates all come from the controller over
xDS, and it keeps serving its last configuration while the controller is away.

  --xds <host:port>       controller xDS address            (GATEFLEET_XDS)
  --fleet <name>          fleet (node group) to serve        (GATEFLEET_FLEET)
  --shard <name>          shard of the fleet                 (GATEFLEET_SHARD)
  --node-id <id>          this gateway's node id             (GATEFLEET_NODE_ID; default: host name and pid)
  --sotw                  use state-of-the-world xDS instead of incremental
  --admin <addr:port>     admin listener (/ready, /healthz, /config_dump, /stats)
                          (GATEFLEET_ADMIN; default 127.0.0.1:15000; port 0 picks one)
  --xds-ca <file>         CA to verify the controller with (TLS)       (GATEFLEET_XDS_CA)
  --xds-cert <file>       client certificate for mTLS                   (GATEFLEET_XDS_CERT)
  --xds-key <file>        client key for mTLS                           (GATEFLEET_XDS_KEY)
  --workers <n>           worker processes (default 1; "auto" = one per core)
  --drain-seconds <n>     on SIGTERM, wait this long for requests in flight (default 20)
`;

function splitHostPort(v: string, what: string): { host: string; port: number } {
  const i = v.lastIndexOf(':');
  const port = Number(v.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new GatefleetError(ErrorCode.Usage, `${what}: "${v}" is not host:port`);
  }
  return { host: v.slice(0, i).replace(/^\[|\]$/g, ''), port };
}

export async function runGateway(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      xds: { type: 'string' },
      fleet: { type: 'string' },
      shard: { type: 'string' },
      'node-id': { type: 'string' },
      sotw: { type: 'boolean', default: false },
      admin: { type: 'string' },
      'xds-ca': { type: 'string' },
      'xds-cert': { type: 'string' },
      'xds-key': { type: 'string' },
      workers: { type: 'string' },
      'drain-seconds': { type: 'string' },
    },
    strict: true,
  });
  const env = process.env;
  const xds = values.xds ?? env.GATEFLEET_XDS;
  const fleet = values.fleet ?? env.GATEFLEET_FLEET;
  if (!xds) throw new GatefleetError(ErrorCode.Usage, `--xds is required\n\n${GATEWAY_USAGE}`);
  if (!fleet) throw new GatefleetError(ErrorCode.Usage, `--fleet is required\n\n${GATEWAY_USAGE}`);
  splitHostPort(xds, '--xds');
  const shard = values.shard ?? env.GATEFLEET_SHARD;
  const nodeGroup = shard ? `${fleet}/${shard}` : fleet;
  const admin = splitHostPort(values.admin ?? env.GATEFLEET_ADMIN ?? '127.0.0.1:15000', '--admin');
  const workersArg = values.workers ?? env.GATEFLEET_WORKERS ?? '1';
  const workers = workersArg === 'auto' ? availableParallelism() : Number(workersArg);
  if (!Number.isInteger(workers) || workers < 1)
    throw new GatefleetError(
      ErrorCode.Usage,
      `--workers: "${workersArg}" is not a positive number or auto`,
    );
  const drainMs = Number(values['drain-seconds'] ?? env.GATEFLEET_DRAIN_SECONDS ?? '20') * 1000;

  if (workers > 1 && cluster.isPrimary) {
    // Each worker is a full gateway with its own xDS stream; the primary only
    // supervises and passes SIGTERM on. Listening sockets are shared by node:cluster.
    for (let i = 0; i < workers; i++) cluster.fork({ GATEFLEET_WORKER_INDEX: String(i) });
    const stop = () => {
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    cluster.on('exit', () => {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
    });
    return;
  }

  const workerIndex = env.GATEFLEET_WORKER_INDEX;
  const baseId = values['node-id'] ?? env.GATEFLEET_NODE_ID ?? `${hostname()}-${process.pid}`;
  const nodeId = workerIndex === undefined ? baseId : `${baseId}/worker-${workerIndex}`;
  const ca = values['xds-ca'] ?? env.GATEFLEET_XDS_CA;
  const cert = values['xds-cert'] ?? env.GATEFLEET_XDS_CERT;
  const key = values['xds-key'] ?? env.GATEFLEET_XDS_KEY;
  const credentials = ca
    ? grpc.credentials.createSsl(
        readFileSync(ca),
        key ? readFileSync(key) : null,
        cert ? readFileSync(cert) : null,
      )
    : undefined;
  const gw = new Gateway({
    xdsAddress: xds,
    nodeId,
    nodeGroup,
    mode: values.sotw ? 'sotw' : 'delta',
    ...(credentials ? { xdsCredentials: credentials } : {}),
    adminAddress: admin.host,
    // Workers share the admin port through node:cluster; any worker answers.
    adminPort: admin.port,
  });
  await gw.start();
  gw.log.info({ nodeId, nodeGroup, xds, adminPort: gw.adminPort() }, 'gateway started');
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    gw.log.info({ signal }, 'draining');
    gw.drain(drainMs).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
