// `gatefleet gateway` options: each flag, or its GATEFLEET_* environment
// variable (the flag wins). Every problem is a GF_USAGE error naming the flag
// or variable it came from, raised before anything starts.
import { isIP } from 'node:net';
import { readFileSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import { parseArgs } from 'node:util';
import type { ChannelCredentials } from '@grpc/grpc-js';
import { ErrorCode, GatefleetError } from '../controller/errors.js';
import { CertificateFiles, type TlsFilePaths } from '../xds/tls/cert-files.js';
import { reloadingChannelCredentials } from '../xds/tls/client-credentials.js';

export const GATEWAY_USAGE = `Usage: gatefleet gateway --xds <host:port> --fleet <namespace/gateway> [options]

Runs a gatefleet gateway. It keeps no configuration of its own: listeners,
routes, clusters, endpoints and certificates all come from the controller over
xDS, and it keeps serving its last configuration while the controller is away.

  --xds <host:port>       controller xDS address                  (GATEFLEET_XDS)
  --fleet <name>          fleet (node group) to serve              (GATEFLEET_FLEET)
  --shard <name>          shard of the fleet                       (GATEFLEET_SHARD)
  --bind-address <ip>     listen on this address instead of all interfaces
                          (GATEFLEET_BIND_ADDRESS; standalone mode gives each fleet its own)
  --listen-any-address    listen on all interfaces whatever addresses a listener names
                          (GATEFLEET_LISTEN_ANY_ADDRESS=true; Kubernetes: a Gateway's
                          addresses belong to its Service, which forwards to the pods)
  --node-id <id>          this gateway's node id                   (GATEFLEET_NODE_ID;
                          default: host name and pid)
  --sotw                  state-of-the-world xDS instead of incremental
                                                                   (GATEFLEET_SOTW=true)
  --admin <addr:port>     admin listener (/ready, /healthz, /config_dump, /stats)
                          (GATEFLEET_ADMIN; default 127.0.0.1:15000; port 0 picks one)
  --xds-ca <file>         CA to verify the controller with; enables TLS   (GATEFLEET_XDS_CA)
  --xds-cert <file>       client certificate for mTLS (with --xds-key)    (GATEFLEET_XDS_CERT)
  --xds-key <file>        client key for mTLS (with --xds-cert)           (GATEFLEET_XDS_KEY)
                          these three are re-read at every reconnection: a rotated
                          Secret applies without a restart
  --xds-server-name <n>   name to verify the controller's certificate for
                          (GATEFLEET_XDS_SERVER_NAME; default: the --xds host)
  --workers <n|auto>      worker processes (GATEFLEET_WORKERS; default 1; auto = one per core)
  --drain-seconds <n>     on SIGTERM, wait this long for requests in flight
                          (GATEFLEET_DRAIN_SECONDS; default 20)
`;

export interface XdsTls {
  /** Undefined: the system's trusted CAs. */
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  serverName?: string;
  /** Where ca, cert and key were read from: re-read on every reconnection. */
  files: TlsFilePaths;
}

/**
 * Credentials for the gateway's xDS channel that re-read `tls.files` on every
 * reconnection (and poll them), so a rotated Secret reaches a running
 * gateway; files unreadable at that moment leave the previous ones in use.
 */
export function xdsChannelCredentials(tls: XdsTls): ChannelCredentials {
  return reloadingChannelCredentials(tls.files);
}

export interface GatewayCliOptions {
  xds: string;
  nodeGroup: string;
  nodeId: string;
  mode: 'delta' | 'sotw';
  admin: { host: string; port: number };
  /** Undefined: plaintext to the controller. */
  tls?: XdsTls;
  workers: number;
  drainMs: number;
  /** Address that replaces the all-interfaces address of every listener. */
  bindAddress?: string;
  /** Every listener on all interfaces, whatever addresses it names. */
  listenAnyAddress?: boolean;
}

const ENV = {
  xds: 'GATEFLEET_XDS',
  fleet: 'GATEFLEET_FLEET',
  shard: 'GATEFLEET_SHARD',
  'node-id': 'GATEFLEET_NODE_ID',
  sotw: 'GATEFLEET_SOTW',
  admin: 'GATEFLEET_ADMIN',
  'xds-ca': 'GATEFLEET_XDS_CA',
  'xds-cert': 'GATEFLEET_XDS_CERT',
  'xds-key': 'GATEFLEET_XDS_KEY',
  'xds-server-name': 'GATEFLEET_XDS_SERVER_NAME',
  workers: 'GATEFLEET_WORKERS',
  'drain-seconds': 'GATEFLEET_DRAIN_SECONDS',
  'bind-address': 'GATEFLEET_BIND_ADDRESS',
  'listen-any-address': 'GATEFLEET_LISTEN_ANY_ADDRESS',
} as const;

type Flag = keyof typeof ENV;

function usage(message: string): GatefleetError {
  return new GatefleetError(ErrorCode.Usage, message);
}

function splitHostPort(v: string, where: string): { host: string; port: number } {
  const i = v.lastIndexOf(':');
  const portText = v.slice(i + 1);
  const port = Number(portText);
  if (i <= 0 || !/^\d+$/.test(portText) || port > 65535) {
    throw usage(`${where}: "${v}" is not host:port`);
  }
  return { host: v.slice(0, i).replace(/^\[|\]$/g, ''), port };
}

export function parseGatewayOptions(
  argv: string[],
  env: NodeJS.ProcessEnv,
  pid = process.pid,
): GatewayCliOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      xds: { type: 'string' },
      fleet: { type: 'string' },
      shard: { type: 'string' },
      'node-id': { type: 'string' },
      sotw: { type: 'boolean' },
      admin: { type: 'string' },
      'xds-ca': { type: 'string' },
      'xds-cert': { type: 'string' },
      'xds-key': { type: 'string' },
      'xds-server-name': { type: 'string' },
      workers: { type: 'string' },
      'drain-seconds': { type: 'string' },
      'bind-address': { type: 'string' },
      'listen-any-address': { type: 'boolean' },
    },
    strict: true,
    allowPositionals: false,
  });
  /** The value and where it came from (`--flag` or the variable), for messages. */
  const get = (f: Flag): { value?: string; where: string } => {
    const v = values[f];
    if (v !== undefined) return { value: String(v), where: `--${f}` };
    const e = env[ENV[f]];
    return e === undefined || e === '' ? { where: `--${f}` } : { value: e, where: ENV[f] };
  };
  const required = (f: Flag): { value: string; where: string } => {
    const r = get(f);
    if (r.value === undefined) throw usage(`--${f} (or ${ENV[f]}) is required\n\n${GATEWAY_USAGE}`);
    return { value: r.value, where: r.where };
  };

  const xds = required('xds');
  splitHostPort(xds.value, xds.where);
  const fleet = required('fleet').value;
  const shard = get('shard').value;
  const nodeId = get('node-id').value ?? `${hostname()}-${pid}`;

  /** A boolean flag, or its variable as true/1/false/0. */
  const flag = (f: 'sotw' | 'listen-any-address'): boolean => {
    if (values[f]) return true;
    const s = get(f);
    if (s.value === undefined) return false;
    if (!/^(true|1|false|0)$/i.test(s.value))
      throw usage(`${s.where}: "${s.value}" is not true or false`);
    return /^(true|1)$/i.test(s.value);
  };
  const mode: 'delta' | 'sotw' = flag('sotw') ? 'sotw' : 'delta';
  const listenAnyAddress = flag('listen-any-address');

  const adminArg = get('admin');
  const admin = splitHostPort(adminArg.value ?? '127.0.0.1:15000', adminArg.where);

  const w = get('workers');
  const workers = w.value === 'auto' ? availableParallelism() : Number(w.value ?? '1');
  if (!Number.isInteger(workers) || workers < 1)
    throw usage(`${w.where}: "${w.value}" is not a positive whole number or auto`);

  const d = get('drain-seconds');
  const drainSeconds = Number(d.value ?? '20');
  if (d.value?.trim() === '' || !Number.isFinite(drainSeconds) || drainSeconds < 0)
    throw usage(`${d.where}: "${d.value}" is not a number of seconds`);

  const bind = get('bind-address');
  if (bind.value !== undefined && isIP(bind.value) === 0)
    throw usage(`${bind.where}: "${bind.value}" is not an IP address`);

  return {
    xds: xds.value,
    // The IR names a shard's node group `<fleet>#<shard>` (# is in no Kubernetes name).
    nodeGroup: shard ? `${fleet}#${shard}` : fleet,
    ...(bind.value !== undefined ? { bindAddress: bind.value } : {}),
    ...(listenAnyAddress ? { listenAnyAddress } : {}),
    nodeId,
    mode,
    admin,
    ...tlsOptions(get),
    workers,
    drainMs: drainSeconds * 1000,
  };
}

function tlsOptions(get: (f: Flag) => { value?: string; where: string }): { tls?: XdsTls } {
  const files: TlsFilePaths = {};
  const read = (f: 'xds-ca' | 'xds-cert' | 'xds-key'): Buffer | undefined => {
    const { value, where } = get(f);
    if (value === undefined) return undefined;
    files[f === 'xds-ca' ? 'ca' : f === 'xds-cert' ? 'cert' : 'key'] = value;
    try {
      return readFileSync(value);
    } catch (e) {
      throw usage(`${where}: cannot read ${value}: ${(e as NodeJS.ErrnoException).code ?? e}`);
    }
  };
  const ca = read('xds-ca');
  const cert = read('xds-cert');
  const key = read('xds-key');
  const serverName = get('xds-server-name').value;
  if ((cert === undefined) !== (key === undefined)) {
    throw usage(
      cert
        ? '--xds-cert needs --xds-key (GATEFLEET_XDS_KEY)'
        : '--xds-key needs --xds-cert (GATEFLEET_XDS_CERT)',
    );
  }
  if (!ca && !cert) {
    if (serverName !== undefined)
      throw usage('--xds-server-name needs TLS: give --xds-ca or --xds-cert and --xds-key');
    return {};
  }
  try {
    new CertificateFiles(files); // what the connection will use must be usable now
  } catch (e) {
    throw usage(`--xds-ca/--xds-cert/--xds-key: ${(e as Error).message}`);
  }
  return {
    tls: {
      ...(ca ? { ca } : {}),
      ...(cert ? { cert } : {}),
      ...(key ? { key } : {}),
      ...(serverName ? { serverName } : {}),
      files,
    },
  };
}
