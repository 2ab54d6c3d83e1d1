// `gatefleet controller`: Kubernetes mode. Every replica watches the cluster,
// translates and serves xDS over mTLS (a gateway's certificate must name the
// node group it claims); the leader also writes status (with Events) and
// provisions fleets, issuing each node group its client certificate.
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { Provisioner } from '../controller/provisioner/provisioner.js';
import { KubeRest } from '../controller/providers/kube/rest.js';
import { KubeRuntime, type RuntimeLog } from '../controller/runtime/kube-runtime.js';
import { EventRecorder } from '../controller/status/events.js';
import { StatusWriter, STATUS_WRITER_DEFAULTS } from '../controller/status/status-writer.js';
import { CONTROLLER_NAME } from '../controller/translator/index.js';
import { CaFileClientCertificates } from '../xds/tls/client-certificates.js';
import { mtlsServerCredentials } from '../xds/tls/server-credentials.js';
import { parseControllerOptions, type ControllerCliOptions } from './controller-options.js';

export { CONTROLLER_USAGE } from './controller-options.js';

function kubeConfig(o: ControllerCliOptions): KubeConfig {
  const kc = new KubeConfig();
  if (o.kubeconfig) kc.loadFromFile(o.kubeconfig);
  else kc.loadFromDefault(); // in-cluster when running in a pod
  return kc;
}

/** Builds the runtime from options (exported for tests that run it in-process). */
export function controllerRuntime(o: ControllerCliOptions, log: RuntimeLog): KubeRuntime {
  const kc = kubeConfig(o);
  const writerRest = new KubeRest(kc, STATUS_WRITER_DEFAULTS.concurrency);
  const tls = o.tls;
  return new KubeRuntime({
    kc,
    namespace: o.namespace,
    replica: o.podName,
    leaseName: o.lease,
    xds: o.xds,
    admin: o.admin,
    ...(tls
      ? {
          xdsCredentials: mtlsServerCredentials(
            { ca: tls.ca, cert: tls.cert, key: tls.key },
            { log: (level, msg, fields) => log(level, msg, fields) },
          ),
          xdsServerOptions: { verifyNodeIdentity: true },
        }
      : {}),
    log,
    statusWriter: (provider) =>
      new StatusWriter({
        rest: writerRest,
        controllerName: CONTROLLER_NAME,
        current: (kind, ns, name) => provider.get(kind, ns, name),
        routes: () => provider.list('HTTPRoute'),
        events: new EventRecorder({
          rest: writerRest,
          controllerName: CONTROLLER_NAME,
          instance: o.podName,
          log,
        }),
        log,
      }),
    ...(o.provision
      ? {
          provisioner: (provider) =>
            new Provisioner({
              rest: provider.rest,
              settings: {
                gatewayImage: o.gatewayImage,
                ...(o.gatewayImagePullPolicy ? { imagePullPolicy: o.gatewayImagePullPolicy } : {}),
                envoyImage: o.envoyImage,
                xdsAddress: o.gatewayXds,
                controllerNamespace: o.namespace,
              },
              certificates: tls
                ? new CaFileClientCertificates({ caCert: tls.ca, caKey: tls.caKey })
                : {
                    // Plaintext xDS (development): gateways need no certificate.
                    issue: () => Promise.resolve('keep' as const),
                  },
              current: (kind, ns, name) => provider.get(kind, ns, name),
              log,
            }),
        }
      : {}),
  });
}

/** Starts the controller; it then runs until SIGTERM or SIGINT. */
export async function runController(argv: string[]): Promise<undefined> {
  const o = parseControllerOptions(argv, process.env);
  const logger = pino({ name: 'gatefleet-controller', level: o.logLevel });
  const log: RuntimeLog = (level, msg, fields) => logger[level](fields ?? {}, msg);
  const rt = controllerRuntime(o, log);
  const stop = async (signal: string) => {
    log('info', 'stopping', { signal });
    await rt.stop();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  await rt.start();
  log('info', 'gatefleet controller running', {
    replica: o.podName,
    namespace: o.namespace,
    xds: `${o.xds.host}:${rt.xdsPort}`,
    admin: `${o.admin.host}:${rt.adminPort}`,
    mtls: o.tls !== undefined,
    provision: o.provision,
  });
  return undefined;
}
