// gatefleet's node agent for the local test cluster: one process that is the
// cluster's only node (kubelet), its scheduler (binds every unscheduled pod to
// itself) and its Service proxy and load balancer. Pods run as local
// processes, each in its own network namespace on the gf0 bridge (see
// pod-worker.ts, images.ts, service-proxy.ts).
//
//   node dist/test/cluster/node-agent.js --kubeconfig <file> --state-dir <dir> [--node-name n]
//
// Logs JSON lines to stdout. SIGTERM/SIGINT stop every pod's processes and
// remove their network namespaces.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import type { WatchedKind, KubeObject } from '../../controller/providers/kube/kinds.js';
import { KubeProvider } from '../../controller/providers/kube/kube-provider.js';
import { isStatus } from '../../controller/providers/kube/rest.js';
import { BRIDGE_IP, PodIpPool, setupBridge } from './host-network.js';
import { localImageMap } from './images.js';
import { startKubeletServer } from './kubelet-server.js';
import { NodeRegistration } from './node.js';
import { PodWorker, type PodContext } from './pod-worker.js';
import { ServiceProxy } from './service-proxy.js';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const core = (kind: string, plural: string): WatchedKind => ({
  kind,
  group: '',
  version: 'v1',
  plural,
  namespaced: true,
});
const KINDS: WatchedKind[] = [
  core('Pod', 'pods'),
  core('Service', 'services'),
  core('Secret', 'secrets'),
  core('ConfigMap', 'configmaps'),
  {
    kind: 'EndpointSlice',
    group: 'discovery.k8s.io',
    version: 'v1',
    plural: 'endpointslices',
    namespaced: true,
  },
];

function log(msg: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(JSON.stringify({ time: new Date().toISOString(), msg, ...fields }) + '\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      kubeconfig: { type: 'string' },
      'state-dir': { type: 'string' },
      'node-name': { type: 'string', default: 'gatefleet-local' },
      'bin-dir': { type: 'string' },
    },
  });
  if (!values.kubeconfig || !values['state-dir']) {
    throw new Error(
      'usage: node-agent --kubeconfig <file> --state-dir <dir> [--node-name n] [--bin-dir d]',
    );
  }
  const root = join(import.meta.dirname, '..', '..', '..');
  const stateDir = values['state-dir'];
  const nodeName = values['node-name']!;
  const kc = new KubeConfig();
  kc.loadFromFile(values.kubeconfig);
  const server = new URL(kc.getCurrentCluster()!.server);

  await setupBridge();
  const provider = new KubeProvider(kc, {
    kinds: KINDS,
    log: (level, msg, fields) => (level === 'debug' ? undefined : log(msg, { level, ...fields })),
  });
  const rest = provider.rest;
  const node = new NodeRegistration(rest, nodeName, BRIDGE_IP, log);
  await node.register();
  const proxy = new ServiceProxy(
    rest,
    { host: server.hostname, port: Number(server.port || 443) },
    log,
  );
  const workers = new Map<string, PodWorker>();
  const binding = new Set<string>();
  const kubelet = await startKubeletServer(stateDir, BRIDGE_IP, (ns, pod, container) => {
    for (const w of workers.values()) {
      if (w.namespace === ns && w.name === pod) return w.logFile(container);
    }
    return undefined;
  });

  const ctx: PodContext = {
    nodeName,
    hostIP: BRIDGE_IP,
    stateDir,
    images: localImageMap(root, values['bin-dir'] ?? join(root, '.cache', 'conformance', 'bin')),
    ipPool: new PodIpPool(),
    sources: {
      secret: (ns, name) => provider.get('Secret', ns, name),
      configMap: (ns, name) => provider.get('ConfigMap', ns, name),
      token: async (pod, audience, expirationSeconds) => {
        const md = pod.metadata;
        const sa = pod.spec.serviceAccountName ?? 'default';
        const res = await rest.request<Any>(
          'POST',
          `/api/v1/namespaces/${md.namespace}/serviceaccounts/${sa}/token`,
          {
            body: {
              apiVersion: 'authentication.k8s.io/v1',
              kind: 'TokenRequest',
              spec: {
                ...(audience ? { audiences: [audience] } : {}),
                expirationSeconds,
                boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: md.name, uid: md.uid },
              },
            },
          },
        );
        return res.status.token as string;
      },
    },
    serviceEnv: (): Record<string, string> => {
      const svc = provider.get('Service', 'default', 'kubernetes') as Any | undefined;
      const ip = svc?.spec?.clusterIP as string | undefined;
      if (!ip) return {};
      return {
        KUBERNETES_SERVICE_HOST: ip,
        KUBERNETES_SERVICE_PORT: '443',
        KUBERNETES_SERVICE_PORT_HTTPS: '443',
        KUBERNETES_PORT: `tcp://${ip}:443`,
        KUBERNETES_PORT_443_TCP: `tcp://${ip}:443`,
        KUBERNETES_PORT_443_TCP_PROTO: 'tcp',
        KUBERNETES_PORT_443_TCP_PORT: '443',
        KUBERNETES_PORT_443_TCP_ADDR: ip,
      };
    },
    etcFiles: (namespace, podName, podIP) => {
      const lines = ['127.0.0.1 localhost', '::1 localhost ip6-localhost', `${podIP} ${podName}`];
      for (const s of provider.list('Service') as Any[]) {
        const ip = s.spec?.clusterIP;
        if (!ip || ip === 'None') continue;
        const { name, namespace: ns } = s.metadata;
        const names = [`${name}.${ns}.svc.cluster.local`, `${name}.${ns}.svc`, `${name}.${ns}`];
        if (ns === namespace) names.push(name);
        lines.push(`${ip} ${names.join(' ')}`);
      }
      return {
        hosts: lines.join('\n') + '\n',
        // No DNS server: names resolve from the hosts file; 127.0.0.1 refuses at once.
        'resolv.conf': `nameserver 127.0.0.1\nsearch ${namespace}.svc.cluster.local svc.cluster.local cluster.local\n`,
      };
    },
    writeStatus: async (pod, status) => {
      const md = pod.metadata;
      await rest
        .request('PATCH', `/api/v1/namespaces/${md.namespace}/pods/${md.name}/status`, {
          contentType: 'application/merge-patch+json',
          body: { metadata: { uid: md.uid }, status },
        })
        .catch((e) => {
          if (!isStatus(e, 404, 409)) throw e;
        });
    },
    deletePod: async (pod) => {
      const md = pod.metadata;
      await rest
        .request('DELETE', `/api/v1/namespaces/${md.namespace}/pods/${md.name}`, {
          body: { gracePeriodSeconds: 0, preconditions: { uid: md.uid } },
        })
        .catch((e) => {
          if (!isStatus(e, 404, 409)) throw e;
        });
    },
    log,
  };

  const bind = async (pod: Any) => {
    const md = pod.metadata;
    binding.add(md.uid);
    try {
      await rest.request('POST', `/api/v1/namespaces/${md.namespace}/pods/${md.name}/binding`, {
        body: {
          apiVersion: 'v1',
          kind: 'Binding',
          metadata: { name: md.name, uid: md.uid },
          target: { apiVersion: 'v1', kind: 'Node', name: nodeName },
        },
      });
    } catch (e) {
      if (!isStatus(e, 404, 409)) {
        log('binding failed', { pod: `${md.namespace}/${md.name}`, error: (e as Error).message });
      }
      // Retried at a later reconcile, not at once (e.g. a namespace being deleted refuses it).
      setTimeout(() => binding.delete(md.uid), 2000).unref();
    }
  };

  let servicesVersion = '';
  const reconcile = () => {
    const seen = new Set<string>();
    for (const pod of provider.list('Pod') as Any[]) {
      const md = pod.metadata;
      seen.add(md.uid);
      if (!pod.spec.nodeName) {
        if (!md.deletionTimestamp && !binding.has(md.uid)) void bind(pod);
        continue;
      }
      if (pod.spec.nodeName !== nodeName) continue;
      const w = workers.get(md.uid);
      if (w) {
        w.update(pod);
        continue;
      }
      if (md.deletionTimestamp) {
        void ctx.deletePod(pod).catch(() => undefined);
        continue;
      }
      if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') continue;
      const worker = new PodWorker(pod, ctx);
      workers.set(md.uid, worker);
      log('starting pod', { pod: `${md.namespace}/${md.name}` });
      worker
        .start()
        .catch((e: Error) =>
          log('pod start failed', { pod: `${md.namespace}/${md.name}`, error: e.message }),
        );
    }
    for (const [uid, w] of workers) {
      if (seen.has(uid)) continue;
      workers.delete(uid);
      binding.delete(uid);
      void w.kill();
    }
    const services = provider.list('Service');
    const version = services
      .map((s) => `${s.metadata?.uid}:${(s.spec as Any)?.clusterIP}`)
      .join(',');
    if (version !== servicesVersion) {
      servicesVersion = version;
      for (const w of workers.values()) w.refreshEtc();
    }
    proxy.sync(services, provider.list('EndpointSlice'));
  };

  let timer: NodeJS.Timeout | undefined;
  provider.onChange((c: { kind: string; object?: KubeObject }) => {
    if (c.kind === 'Secret' || c.kind === 'ConfigMap') return;
    if (provider.synced() && !timer)
      timer = setTimeout(() => ((timer = undefined), reconcile()), 20);
  });
  provider.start();
  await provider.whenSynced();
  reconcile();
  log('node agent ready', { node: nodeName });

  const stop = async () => {
    log('node agent stopping');
    node.stop();
    kubelet.close();
    await Promise.all([...workers.values()].map((w) => w.kill()));
    await proxy.close();
    await provider.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}

main().catch((e: Error) => {
  log('node agent failed', { error: e.stack ?? e.message });
  process.exit(1);
});
