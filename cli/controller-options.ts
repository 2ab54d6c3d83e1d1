// `gatefleet controller` options: each flag, or its GATEFLEET_* environment
// variable (the flag wins) — the contract the Helm chart's Deployment uses.
// Every problem is a GF_USAGE error naming the flag or variable, raised
// before anything starts.
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { ErrorCode, GatefleetError } from '../controller/errors.js';
import { CONTROLLER_NAME } from '../controller/translator/index.js';
import { DEFAULT_ENVOY_IMAGE } from '../controller/provisioner/settings.js';

export const CONTROLLER_USAGE = `Usage: gatefleet controller [options]

Runs gatefleet in Kubernetes: watches the Gateway API resources, serves xDS
to the gateway fleets (every replica), and — on the replica holding the
leader Lease — writes status and provisions each fleet's Deployment,
Service, ServiceAccount, ConfigMap and HorizontalPodAutoscaler.

  --kubeconfig <file>        (KUBECONFIG; default: in-cluster, then ~/.kube/config)
  --namespace <ns>           the controller's namespace: Lease, reports, xDS Secret
                             (GATEFLEET_NAMESPACE; default: the pod's namespace)
  --pod-name <name>          this replica's identity (GATEFLEET_POD_NAME; default: host name)
  --controller-name <name>   must be ${CONTROLLER_NAME} (GATEFLEET_CONTROLLER_NAME)
  --lease <name>             leader-election Lease (GATEFLEET_LEADER_ELECTION_LEASE;
                             default gatefleet-controller)
  --xds <addr:port>          xDS listen address (GATEFLEET_XDS; default 0.0.0.0:18000)
  --xds-ca <file>            CA that client certificates must chain to  (GATEFLEET_XDS_CA)
  --xds-cert <file>          serving certificate                        (GATEFLEET_XDS_CERT)
  --xds-key <file>           serving key                                (GATEFLEET_XDS_KEY)
  --xds-ca-key <file>        CA key, to issue gateways' client certificates
                             (GATEFLEET_XDS_CA_KEY; default: ca.key beside --xds-ca)
  --xds-insecure             serve xDS without TLS (development only; GATEFLEET_XDS_INSECURE=true)
  --admin <addr:port>        /ready, /healthz, /status, /fleet, /metrics
                             (GATEFLEET_ADMIN; default 127.0.0.1:9090)
  --gateway-image <ref>      image of provisioned gateways (GATEFLEET_GATEWAY_IMAGE)
  --gateway-image-pull-policy <p>  (GATEFLEET_GATEWAY_IMAGE_PULL_POLICY)
  --envoy-image <ref>        image for fleets with dataPlane: envoy (GATEFLEET_ENVOY_IMAGE)
  --gateway-xds <host:port>  where provisioned gateways reach the xDS Service
                             (GATEFLEET_GATEWAY_XDS)
  --no-provision             run no fleets (GATEFLEET_PROVISION=false)
  --log-level <level>        (GATEFLEET_LOG_LEVEL; default info)
`;

export interface ControllerCliOptions {
  kubeconfig?: string;
  namespace: string;
  podName: string;
  lease: string;
  xds: { host: string; port: number };
  /** Undefined only with --xds-insecure. */
  tls?: { ca: string; cert: string; key: string; caKey: string };
  admin: { host: string; port: number };
  provision: boolean;
  gatewayImage: string;
  gatewayImagePullPolicy?: string;
  envoyImage: string;
  gatewayXds: string;
  logLevel: string;
}

const ENV = {
  kubeconfig: 'KUBECONFIG',
  namespace: 'GATEFLEET_NAMESPACE',
  'pod-name': 'GATEFLEET_POD_NAME',
  'controller-name': 'GATEFLEET_CONTROLLER_NAME',
  lease: 'GATEFLEET_LEADER_ELECTION_LEASE',
  xds: 'GATEFLEET_XDS',
  'xds-ca': 'GATEFLEET_XDS_CA',
  'xds-cert': 'GATEFLEET_XDS_CERT',
  'xds-key': 'GATEFLEET_XDS_KEY',
  'xds-ca-key': 'GATEFLEET_XDS_CA_KEY',
  'xds-insecure': 'GATEFLEET_XDS_INSECURE',
  admin: 'GATEFLEET_ADMIN',
  'gateway-image': 'GATEFLEET_GATEWAY_IMAGE',
  'gateway-image-pull-policy': 'GATEFLEET_GATEWAY_IMAGE_PULL_POLICY',
  'envoy-image': 'GATEFLEET_ENVOY_IMAGE',
  'gateway-xds': 'GATEFLEET_GATEWAY_XDS',
  provision: 'GATEFLEET_PROVISION',
  'log-level': 'GATEFLEET_LOG_LEVEL',
} as const;

type Flag = keyof typeof ENV;

/** The image tags used when none is configured: this release's images. */
export const DEFAULT_GATEWAY_IMAGE = 'gatefleet/gateway:0.1.0';
const SA_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

function usage(message: string): GatefleetError {
  return new GatefleetError(ErrorCode.Usage, message);
}

function hostPort(v: string, where: string): { host: string; port: number } {
  const i = v.lastIndexOf(':');
  const text = v.slice(i + 1);
  const port = Number(text);
  if (i <= 0 || !/^\d+$/.test(text) || port > 65535)
    throw usage(`${where}: "${v}" is not host:port`);
  return { host: v.slice(0, i).replace(/^\[|\]$/g, ''), port };
}

function bool(v: string, where: string): boolean {
  if (!/^(true|1|false|0)$/i.test(v)) throw usage(`${where}: "${v}" is not true or false`);
  return /^(true|1)$/i.test(v);
}

export function parseControllerOptions(
  argv: string[],
  env: NodeJS.ProcessEnv,
): ControllerCliOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      kubeconfig: { type: 'string' },
      namespace: { type: 'string' },
      'pod-name': { type: 'string' },
      'controller-name': { type: 'string' },
      lease: { type: 'string' },
      xds: { type: 'string' },
      'xds-ca': { type: 'string' },
      'xds-cert': { type: 'string' },
      'xds-key': { type: 'string' },
      'xds-ca-key': { type: 'string' },
      'xds-insecure': { type: 'boolean' },
      admin: { type: 'string' },
      'gateway-image': { type: 'string' },
      'gateway-image-pull-policy': { type: 'string' },
      'envoy-image': { type: 'string' },
      'gateway-xds': { type: 'string' },
      'no-provision': { type: 'boolean' },
      'log-level': { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
  const get = (f: Flag): { value?: string; where: string } => {
    const v = (values as Record<string, unknown>)[f];
    if (v !== undefined) return { value: String(v), where: `--${f}` };
    const e = env[ENV[f]];
    return e === undefined || e === '' ? { where: `--${f}` } : { value: e, where: ENV[f] };
  };

  const name = get('controller-name');
  if (name.value !== undefined && name.value !== CONTROLLER_NAME) {
    throw usage(
      `${name.where}: gatefleet's controller name is ${CONTROLLER_NAME}, not "${name.value}"`,
    );
  }
  const namespace =
    get('namespace').value ??
    (existsSync(SA_NAMESPACE_FILE) ? readFileSync(SA_NAMESPACE_FILE, 'utf8').trim() : undefined);
  if (!namespace) {
    throw usage(
      `--namespace (or GATEFLEET_NAMESPACE) is required outside a pod\n\n${CONTROLLER_USAGE}`,
    );
  }
  const xdsArg = get('xds');
  const adminArg = get('admin');
  const insecureArg = get('xds-insecure');
  const insecure =
    values['xds-insecure'] === true ||
    (insecureArg.value !== undefined && bool(insecureArg.value, insecureArg.where));

  let tls: ControllerCliOptions['tls'];
  if (!insecure) {
    const need = (f: 'xds-ca' | 'xds-cert' | 'xds-key'): string => {
      const r = get(f);
      if (r.value === undefined) {
        throw usage(
          `--${f} (or ${ENV[f]}) is required: the xDS server requires mTLS in Kubernetes mode ` +
            `(--xds-insecure for development only)\n\n${CONTROLLER_USAGE}`,
        );
      }
      if (!existsSync(r.value)) throw usage(`${r.where}: ${r.value} does not exist`);
      return r.value;
    };
    const ca = need('xds-ca');
    tls = {
      ca,
      cert: need('xds-cert'),
      key: need('xds-key'),
      caKey: get('xds-ca-key').value ?? ca.replace(/[^/]*$/, 'ca.key'),
    };
  }

  const provisionArg = get('provision');
  const provision =
    values['no-provision'] === true
      ? false
      : provisionArg.value === undefined
        ? true
        : bool(provisionArg.value, provisionArg.where);
  const gatewayXds = get('gateway-xds');
  if (provision && gatewayXds.value === undefined) {
    throw usage(
      `--gateway-xds (or GATEFLEET_GATEWAY_XDS) is required to provision fleets: the address ` +
        `gateways use to reach this controller's xDS Service\n\n${CONTROLLER_USAGE}`,
    );
  }
  if (gatewayXds.value !== undefined) hostPort(gatewayXds.value, gatewayXds.where);
  const kubeconfig = get('kubeconfig').value;
  const pull = get('gateway-image-pull-policy').value;
  if (pull !== undefined && !['Always', 'IfNotPresent', 'Never'].includes(pull)) {
    throw usage(`--gateway-image-pull-policy: "${pull}" is not Always, IfNotPresent or Never`);
  }
  return {
    ...(kubeconfig ? { kubeconfig } : {}),
    namespace,
    podName: get('pod-name').value ?? hostname(),
    lease: get('lease').value ?? 'gatefleet-controller',
    xds: hostPort(xdsArg.value ?? '0.0.0.0:18000', xdsArg.where),
    ...(tls ? { tls } : {}),
    admin: hostPort(adminArg.value ?? '127.0.0.1:9090', adminArg.where),
    provision,
    gatewayImage: get('gateway-image').value ?? DEFAULT_GATEWAY_IMAGE,
    ...(pull ? { gatewayImagePullPolicy: pull } : {}),
    envoyImage: get('envoy-image').value ?? DEFAULT_ENVOY_IMAGE,
    gatewayXds: gatewayXds.value ?? '',
    logLevel: get('log-level').value ?? 'info',
  };
}
