// A real etcd + kube-apiserver (+ kube-controller-manager) for one test file,
// from hack/kube/control-plane.sh, with the Gateway API CRDs (experimental
// channel, v1.6.1) and gatefleet's CRD installed and established.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { KubeRest, isStatus } from '../../controller/providers/kube/rest.js';

/** The repository root, from the source tree or from dist/ (benchmarks use this too). */
function repoRoot(): string {
  let dir = import.meta.dirname;
  while (!existsSync(join(dir, 'hack/kube/control-plane.sh'))) {
    const up = dirname(dir);
    if (up === dir)
      throw new Error('cannot find hack/kube/control-plane.sh above ' + import.meta.dirname);
    dir = up;
  }
  return dir;
}

const ROOT = repoRoot();
const script = join(ROOT, 'hack/kube/control-plane.sh');
const crdRoot = join(ROOT, 'controller/apis/crds');

export interface TestCluster {
  dir: string;
  kubeconfigPath: string;
  kc: KubeConfig;
  rest: KubeRest;
  down(): Promise<void>;
}

function run(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve(out.trim())
        : reject(new Error(`control-plane.sh ${args[0]} exited ${code}: ${err}`)),
    );
  });
}

export async function waitFor<T>(
  what: string,
  f: () => Promise<T | undefined> | T | undefined,
  ms = 30_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

async function crdFiles(): Promise<string[]> {
  const dirs = [join(crdRoot, 'gateway-api/experimental'), join(crdRoot, 'gatefleet')];
  const out: string[] = [];
  for (const d of dirs) {
    for (const f of (await readdir(d)).sort()) if (f.endsWith('.yaml')) out.push(join(d, f));
  }
  return out;
}

/** Applies every CRD (server-side apply) and waits until each is established. */
export async function installCrds(rest: KubeRest): Promise<void> {
  const names: string[] = [];
  for (const file of await crdFiles()) {
    const docs = parseAllDocuments(await readFile(file, 'utf8')).map(
      (d) => d.toJS() as { kind?: string; metadata: { name: string } } | null,
    );
    for (const doc of docs) {
      if (doc?.kind !== 'CustomResourceDefinition') continue;
      names.push(doc.metadata.name);
      await rest.request(
        'PATCH',
        `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${doc.metadata.name}`,
        {
          query: { fieldManager: 'gatefleet-tests', force: true },
          body: doc,
          contentType: 'application/apply-patch+yaml',
        },
      );
    }
  }
  for (const name of names) {
    await waitFor(`CRD ${name} established`, async () => {
      const crd = await rest.get<{ status?: { conditions?: { type: string; status: string }[] } }>(
        `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`,
      );
      return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
    });
  }
}

export async function startCluster(
  opts: { controllerManager?: boolean; crds?: boolean } = {},
): Promise<TestCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'gatefleet-kube-'));
  await rm(dir, { recursive: true, force: true });
  const args = ['up', dir];
  if (opts.controllerManager) args.push('--with-controller-manager');
  // control-plane.sh picks free ports and then binds them: a test file
  // starting its cluster at the same moment can take one in between.
  let kubeconfigPath = '';
  for (let attempt = 1; ; attempt++) {
    try {
      kubeconfigPath = (await run(args)).split('\n').pop()!;
      break;
    } catch (e) {
      if (attempt === 3 || !/address already in use/.test((e as Error).message)) throw e;
      await run(['down', dir]).catch(() => undefined);
    }
  }
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const rest = new KubeRest(kc);
  const cluster: TestCluster = {
    dir,
    kubeconfigPath,
    kc,
    rest,
    down: async () => {
      rest.close();
      await run(['down', dir]);
    },
  };
  try {
    if (opts.crds !== false) await installCrds(rest);
    // The default namespace exists once the API server's bootstrap controller has run.
    await waitFor('namespace default', () => rest.get('/api/v1/namespaces/default'));
  } catch (e) {
    await cluster.down();
    throw e;
  }
  return cluster;
}

/** Creates an object (JSON, as the API server takes it) at its collection path. */
export async function create<T = unknown>(
  rest: KubeRest,
  obj: Record<string, unknown>,
): Promise<T> {
  return rest.request<T>('POST', collectionOf(obj), { body: obj });
}

/** Creates or replaces by server-side apply. */
export async function apply<T = unknown>(rest: KubeRest, obj: Record<string, unknown>): Promise<T> {
  const md = obj.metadata as { name: string };
  return rest.request<T>('PATCH', `${collectionOf(obj)}/${md.name}`, {
    query: { fieldManager: 'gatefleet-tests', force: true },
    body: obj,
    contentType: 'application/apply-patch+yaml',
  });
}

export async function remove(rest: KubeRest, obj: Record<string, unknown>): Promise<void> {
  const md = obj.metadata as { name: string };
  try {
    await rest.request('DELETE', `${collectionOf(obj)}/${md.name}`);
  } catch (e) {
    if (!isStatus(e, 404)) throw e;
  }
}

const PLURALS: Record<string, string> = {
  GatewayClass: 'gatewayclasses',
  Gateway: 'gateways',
  HTTPRoute: 'httproutes',
  ReferenceGrant: 'referencegrants',
  FleetConfig: 'fleetconfigs',
  Namespace: 'namespaces',
  Service: 'services',
  EndpointSlice: 'endpointslices',
  Secret: 'secrets',
  ConfigMap: 'configmaps',
  Deployment: 'deployments',
  ServiceAccount: 'serviceaccounts',
  HorizontalPodAutoscaler: 'horizontalpodautoscalers',
  Lease: 'leases',
  Event: 'events',
  ClusterRole: 'clusterroles',
  ClusterRoleBinding: 'clusterrolebindings',
  Role: 'roles',
  RoleBinding: 'rolebindings',
};

const CLUSTER_SCOPED = new Set(['GatewayClass', 'Namespace', 'ClusterRole', 'ClusterRoleBinding']);

/** The collection path of an object's kind (in its namespace, if namespaced). */
export function collectionOf(obj: Record<string, unknown>): string {
  const kind = obj.kind as string;
  const apiVersion = obj.apiVersion as string;
  const plural = PLURALS[kind];
  if (!plural) throw new Error(`no plural known for ${kind}`);
  const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  const ns = (obj.metadata as { namespace?: string }).namespace ?? 'default';
  return CLUSTER_SCOPED.has(kind) ? `${base}/${plural}` : `${base}/namespaces/${ns}/${plural}`;
}

/**
 * Kills the cluster's kube-apiserver and starts it again with the same
 * command line (etcd keeps the data). Resolves once it answers /readyz.
 * `downMs` keeps it down that long first.
 */
export async function restartApiServer(cluster: TestCluster, downMs = 0): Promise<void> {
  const pidFile = join(cluster.dir, 'kube-apiserver.pid');
  const pid = Number((await readFile(pidFile, 'utf8')).trim());
  const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter(Boolean);
  process.kill(pid, 'SIGKILL');
  await waitFor(
    'kube-apiserver to exit',
    () => !existsSync(`/proc/${pid}/status`) || isZombie(pid),
  );
  await new Promise((r) => setTimeout(r, downMs));
  const out = openSync(join(cluster.dir, 'kube-apiserver.log'), 'a');
  const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', out, out] });
  child.unref();
  writeFileSync(pidFile, `${child.pid}\n`);
  await waitFor(
    'kube-apiserver ready again',
    () => cluster.rest.get('/readyz').then(() => true),
    120_000,
    250,
  );
}

function isZombie(pid: number): boolean {
  try {
    return / Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/**
 * A non-loopback IPv4 address of this machine: EndpointSlices refuse
 * loopback addresses, so test backends listen here.
 */
export function hostAddress(): string {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  throw new Error('this machine has no non-loopback IPv4 address for test backends');
}

/**
 * A kubeconfig that authenticates as a ServiceAccount (a client certificate
 * from the cluster's CA with CN system:serviceaccount:<ns>:<name>), so a
 * process runs with exactly the RBAC bound to that ServiceAccount.
 */
export function serviceAccountKubeconfig(
  cluster: TestCluster,
  namespace: string,
  name: string,
): string {
  const base = join(cluster.dir, `sa-${namespace}-${name}`);
  const run = (args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  run(['genrsa', '-out', `${base}.key`, '2048']);
  run([
    'req',
    '-new',
    '-key',
    `${base}.key`,
    '-subj',
    `/O=system:serviceaccounts/O=system:serviceaccounts:${namespace}/CN=system:serviceaccount:${namespace}:${name}`,
    '-out',
    `${base}.csr`,
  ]);
  writeFileSync(`${base}.ext`, 'extendedKeyUsage=clientAuth\n');
  run([
    'x509',
    '-req',
    '-in',
    `${base}.csr`,
    '-CA',
    join(cluster.dir, 'ca.crt'),
    '-CAkey',
    join(cluster.dir, 'ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    `${base}.ext`,
    '-out',
    `${base}.crt`,
  ]);
  const server = cluster.kc.getCurrentCluster()!.server;
  const b64 = (f: string) => readFileSync(f).toString('base64');
  const path = `${base}.kubeconfig`;
  writeFileSync(
    path,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '  - name: c',
      '    cluster:',
      `      server: ${server}`,
      `      certificate-authority-data: ${b64(join(cluster.dir, 'ca.crt'))}`,
      'users:',
      '  - name: u',
      '    user:',
      `      client-certificate-data: ${b64(`${base}.crt`)}`,
      `      client-key-data: ${b64(`${base}.key`)}`,
      'contexts:',
      '  - name: c',
      '    context: { cluster: c, user: u }',
      'current-context: c',
      '',
    ].join('\n'),
  );
  return path;
}
