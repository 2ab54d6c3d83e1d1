// The local cluster the conformance suite runs on, without Docker or kind:
// etcd + kube-apiserver + kube-controller-manager (hack/kube/control-plane.sh),
// the node agent (node-agent.ts: one Node, pods as local processes in network
// namespaces on the gf0 bridge, Services and load balancers), the Gateway API
// and gatefleet CRDs, and gatefleet installed with `helm install` of
// charts/gatefleet (its two controller replicas run as pods).
//
//   node dist/test/cluster/local-cluster.js up     prints the kubeconfig path
//   node dist/test/cluster/local-cluster.js down   stops everything, also after a crash
//
// Everything lives under .cache/local-cluster/ (logs of the last run are kept in
// .cache/local-cluster/logs until the next `up`).
import { execFile, spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeRest } from '../../controller/providers/kube/rest.js';
import { installCrds, waitFor } from '../support/kube-cluster.js';
import { cleanupNetwork } from './host-network.js';
import { MOUNT_POINTS, removeMountPoints } from './pod-process.js';

const exec = promisify(execFile);
type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const ROOT = join(
  import.meta.dirname,
  '..',
  '..',
  ...(import.meta.dirname.includes('/dist/') ? ['..'] : []),
);
export const STATE = join(ROOT, '.cache', 'local-cluster');
const PLANE = join(STATE, 'control-plane');
const AGENT_PID = join(STATE, 'node-agent.pid');
export const LOGS = join(STATE, 'logs');
const KUBERNETES_SERVICE_IP = '10.96.0.1';
export const RELEASE_NAMESPACE = 'gatefleet-system';

export interface LocalCluster {
  kubeconfig: string;
  rest: KubeRest;
}

function log(msg: string): void {
  process.stderr.write(`local-cluster: ${msg}\n`);
}

async function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  try {
    const { stdout } = await exec(cmd, args, {
      cwd: ROOT,
      env: { ...process.env, ...env },
      maxBuffer: 64 << 20,
    });
    return stdout.trim();
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')}: ${err.stderr?.trim() || err.message}`);
  }
}

/** The node agent we started, if its pid still names it. */
function agentPid(): number | undefined {
  try {
    const pid = Number(readFileSync(AGENT_PID, 'utf8').trim());
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmd.includes('node-agent.js') ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function stopAgent(): Promise<void> {
  const pid = agentPid();
  if (pid === undefined) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 15_000;
  while (existsSync(`/proc/${pid}`) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 100));
  if (existsSync(`/proc/${pid}`)) process.kill(pid, 'SIGKILL');
  rmSync(AGENT_PID, { force: true });
}

/** Stops and removes everything a previous `up` made, even if that run crashed. */
export async function down(): Promise<void> {
  await stopAgent();
  if (existsSync(PLANE)) {
    for (const f of ['kube-apiserver.log', 'kube-controller-manager.log', 'etcd.log']) {
      if (existsSync(join(PLANE, f))) cpSync(join(PLANE, f), join(LOGS, f));
    }
    await run('bash', ['hack/kube/control-plane.sh', 'down', PLANE]);
  }
  await cleanupNetwork();
  removeMountPoints(join(LOGS, MOUNT_POINTS));
}

export async function up(): Promise<LocalCluster> {
  await down();
  rmSync(LOGS, { recursive: true, force: true });
  mkdirSync(LOGS, { recursive: true });
  const t0 = Date.now();
  await run('bash', ['hack/local-cluster/build.sh']);
  const kubeconfig = await controlPlaneUp();
  log(`control plane up (${Math.round((Date.now() - t0) / 1000)} s)`);
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const rest = new KubeRest(kc);
  try {
    const out = openSync(join(LOGS, 'node-agent.log'), 'a');
    const agent = spawn(
      process.execPath,
      [
        join(ROOT, 'dist', 'test', 'cluster', 'node-agent.js'),
        '--kubeconfig',
        kubeconfig,
        '--state-dir',
        LOGS,
      ],
      { detached: true, stdio: ['ignore', out, out] },
    );
    agent.unref();
    writeFileSync(AGENT_PID, `${agent.pid}\n`);
    await installCrds(rest);
    await waitFor(
      'the node Ready',
      async () => {
        if (agentPid() === undefined)
          throw new Error(`node agent exited (log: ${join(LOGS, 'node-agent.log')})`);
        const nodes = await rest.get<Any>('/api/v1/nodes');
        return nodes.items?.some((n: Any) =>
          n.status?.conditions?.some((c: Any) => c.type === 'Ready' && c.status === 'True'),
        );
      },
      60_000,
      250,
    );
    await helmInstall(kubeconfig);
    log(`gatefleet installed (${Math.round((Date.now() - t0) / 1000)} s)`);
    return { kubeconfig, rest };
  } catch (e) {
    rest.close();
    await down().catch(() => undefined);
    throw e;
  }
}

/** control-plane.sh up, tried again when a port it picked was taken meanwhile (parallel tests). */
async function controlPlaneUp(): Promise<string> {
  const args = ['up', PLANE, '--with-controller-manager', '--serving-ip', KUBERNETES_SERVICE_IP];
  for (let attempt = 1; ; attempt++) {
    try {
      return (await run('bash', ['hack/kube/control-plane.sh', ...args])).split('\n').pop()!;
    } catch (e) {
      if (attempt >= 3) throw e;
      log(`control plane did not start (${(e as Error).message.slice(-200)}); trying again`);
      await run('bash', ['hack/kube/control-plane.sh', 'down', PLANE]).catch(() => undefined);
    }
  }
}

async function helmInstall(kubeconfig: string): Promise<void> {
  const helm = await run('bash', ['hack/tools/helm.sh']);
  const homes = {
    KUBECONFIG: kubeconfig,
    HELM_CACHE_HOME: join(STATE, 'helm', 'cache'),
    HELM_CONFIG_HOME: join(STATE, 'helm', 'config'),
    HELM_DATA_HOME: join(STATE, 'helm', 'data'),
  };
  // --wait: the controller Deployment's two pods are Ready (the node agent runs them).
  await run(
    helm,
    [
      'install',
      'gatefleet',
      join(ROOT, 'charts', 'gatefleet'),
      '-n',
      RELEASE_NAMESPACE,
      '--create-namespace',
      '--skip-crds',
      '--wait',
      '--timeout',
      '3m',
    ],
    homes,
  );
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const cmd = process.argv[2];
  const main =
    cmd === 'up'
      ? up().then((c) => (c.rest.close(), console.log(c.kubeconfig)))
      : cmd === 'down'
        ? down()
        : undefined;
  if (!main) {
    console.error('usage: local-cluster.js up | down');
    process.exit(2);
  }
  main.catch((e: Error) => {
    console.error(`local-cluster ${cmd}: ${e.message}`);
    process.exit(1);
  });
}
