// The fleet provisioner against a real kube-apiserver and kube-controller-
// manager (garbage collection, Deployments → ReplicaSets, EndpointSlices).
// The IR comes from the real translator over the Gateway API objects read
// back from the API server, and the provisioner runs as a user bound to
// exactly PROVISIONER_RBAC_RULES, so every test also proves those rules are
// enough. Client certificates come from a small openssl issuer.
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IR } from '../../controller/ir/types.js';
import type { KubeObject } from '../../controller/providers/kube/kinds.js';
import { KubeRest, isStatus } from '../../controller/providers/kube/rest.js';
import { objectPath } from '../../controller/provisioner/apply.js';
import { Label, objectName } from '../../controller/provisioner/names.js';
import { Provisioner, type ReconcileReport } from '../../controller/provisioner/provisioner.js';
import { PROVISIONER_RBAC_RULES } from '../../controller/provisioner/rbac.js';
import type {
  ClientCertificatePems,
  ClientCertificates,
  ProvisionerSettings,
} from '../../controller/provisioner/settings.js';
import { inputsOf, translate } from '../../controller/translator/index.js';
import {
  apply,
  create,
  remove,
  startCluster,
  waitFor,
  type TestCluster,
} from '../support/kube-cluster.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const CONTROLLER_NS = 'gatefleet-system';
const settings: ProvisionerSettings = {
  gatewayImage: 'gatefleet/gateway:test',
  imagePullPolicy: 'IfNotPresent',
  envoyImage: 'envoyproxy/envoy:v1.36.13',
  xdsAddress: 'gatefleet-xds.gatefleet-system.svc:18000',
  xdsServerName: 'gatefleet-xds.gatefleet-system.svc',
  controllerNamespace: CONTROLLER_NS,
};

function openssl(dir: string, args: string): void {
  execFileSync('openssl', args.split(' '), { cwd: dir, stdio: 'pipe' });
}

const EC = '-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes';

/** `<name>.key` and a certificate `<name>.crt` for `subject` with extensions `ext`, signed by `ca`. */
function leaf(dir: string, name: string, subject: string, ext: string, ca = 'ca'): void {
  openssl(dir, `req -new ${EC} -subj ${subject} -keyout ${name}.key -out ${name}.csr`);
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(
    dir,
    `x509 -req -in ${name}.csr -CA ${ca}.crt -CAkey ${ca}.key -CAcreateserial -days 1 -extfile ${name}.ext -out ${name}.crt`,
  );
}

/** Issues node group certificates (URI SAN of the node group) from a CA made here; keeps valid ones. */
class OpensslIssuer implements ClientCertificates {
  readonly dir = mkdtempSync(join(tmpdir(), 'gatefleet-provisioner-pki-'));
  readonly issued: string[] = [];
  private serial = 0;

  constructor() {
    openssl(this.dir, `req -x509 ${EC} -days 2 -subj /CN=xds-test-ca -keyout ca.key -out ca.crt`);
  }

  get caPem(): string {
    return readFileSync(join(this.dir, 'ca.crt'), 'utf8');
  }

  static uri(nodeGroup: string): string {
    return `spiffe://gatefleet.io/node-group/${encodeURIComponent(nodeGroup)}`;
  }

  async issue(
    nodeGroup: string,
    existing?: Record<string, string>,
  ): Promise<ClientCertificatePems | 'keep'> {
    const uri = OpensslIssuer.uri(nodeGroup);
    if (existing?.['tls.crt'] && existing['ca.crt'] === this.caPem) {
      const x = new X509Certificate(existing['tls.crt']);
      if (x.subjectAltName === `URI:${uri}` && new Date(x.validTo) > new Date()) return 'keep';
    }
    const n = `leaf-${++this.serial}`;
    leaf(this.dir, n, '/CN=gateway', `subjectAltName=URI:${uri}\nextendedKeyUsage=clientAuth\n`);
    this.issued.push(nodeGroup);
    return {
      'ca.crt': this.caPem,
      'tls.crt': readFileSync(join(this.dir, `${n}.crt`), 'utf8'),
      'tls.key': readFileSync(join(this.dir, `${n}.key`), 'utf8'),
    };
  }
}

/** A REST client for a user bound to exactly PROVISIONER_RBAC_RULES (client certificate from the test CA). */
async function restrictedRest(cluster: TestCluster): Promise<KubeRest> {
  const user = 'gatefleet-provisioner-test';
  const { dir, kc, rest } = cluster;
  leaf(dir, 'provisioner', `/CN=${user}`, 'extendedKeyUsage=clientAuth\n');
  const rbac = '/apis/rbac.authorization.k8s.io/v1';
  await rest.request('POST', `${rbac}/clusterroles`, {
    body: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: user },
      rules: PROVISIONER_RBAC_RULES,
    },
  });
  await rest.request('POST', `${rbac}/clusterrolebindings`, {
    body: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: user },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: user },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
    },
  });
  const cur = kc.getCurrentCluster()!;
  const b64 = (f: string) => readFileSync(join(dir, f)).toString('base64');
  const restricted = new KubeConfig();
  restricted.loadFromOptions({
    clusters: [{ name: 'test', server: cur.server, caData: cur.caData ?? b64('ca.crt') }],
    users: [{ name: user, certData: b64('provisioner.crt'), keyData: b64('provisioner.key') }],
    contexts: [{ name: 'test', cluster: 'test', user }],
    currentContext: 'test',
  });
  const r = new KubeRest(restricted);
  await waitFor('RBAC for the provisioner user', () =>
    r.get('/apis/apps/v1/deployments').then(() => true),
  );
  // Anything else stays forbidden.
  await expect(r.get('/apis/gateway.networking.k8s.io/v1/gateways')).rejects.toMatchObject({
    status: 403,
  });
  return r;
}

const gwApi = 'gateway.networking.k8s.io/v1';

function gateway(ns: string, name: string, extra: Obj = {}, ports = [80]): Obj {
  return {
    apiVersion: gwApi,
    kind: 'Gateway',
    metadata: { name, namespace: ns },
    spec: {
      gatewayClassName: 'gatefleet',
      listeners: ports.map((port) => ({ name: `l${port}`, port, protocol: 'HTTP' })),
      ...extra,
    },
  };
}

function fleetConfig(ns: string, name: string, spec: Obj): Obj {
  return {
    apiVersion: 'gatefleet.io/v1alpha1',
    kind: 'FleetConfig',
    metadata: { name, namespace: ns },
    spec,
  };
}

const paramsRef = (name: string) => ({
  infrastructure: { parametersRef: { group: 'gatefleet.io', kind: 'FleetConfig', name } },
});

describe('fleet provisioner (real API server, kube-controller-manager)', () => {
  let cluster: TestCluster;
  let admin: KubeRest;
  let provisionerRest: KubeRest;
  let issuer: OpensslIssuer;
  let provisioner: Provisioner;
  let lastIr: IR;

  /** The real translator over every GatewayClass, Gateway and FleetConfig in the cluster. */
  async function translated(): Promise<{
    ir: IR;
    gateways: (ns: string, name: string) => KubeObject | undefined;
  }> {
    const list = async (path: string, kind: string, apiVersion: string) =>
      ((await admin.get<{ items: Obj[] }>(path)).items ?? []).map((o): Obj => ({
        ...o,
        kind,
        apiVersion,
      }));
    const classes = await list(`/apis/${gwApi}/gatewayclasses`, 'GatewayClass', gwApi);
    const gws = await list(`/apis/${gwApi}/gateways`, 'Gateway', gwApi);
    const fcs = await list(
      '/apis/gatefleet.io/v1alpha1/fleetconfigs',
      'FleetConfig',
      'gatefleet.io/v1alpha1',
    );
    const { ir } = translate(inputsOf([...classes, ...gws, ...fcs]));
    const byKey = new Map(
      gws.map((g) => [`${g.metadata.namespace}/${g.metadata.name}`, g as KubeObject]),
    );
    return { ir, gateways: (ns, name) => byKey.get(`${ns}/${name}`) };
  }

  async function reconcile(p = provisioner): Promise<ReconcileReport> {
    const { ir, gateways } = await translated();
    lastIr = ir;
    const report = await p.reconcile(ir, gateways);
    expect(report.errors).toEqual([]);
    return report;
  }

  const get = async (kind: string, ns: string, name: string): Promise<Obj | undefined> => {
    try {
      return await admin.get<Obj>(objectPath(kind, ns, name));
    } catch (e) {
      if (isStatus(e, 404)) return undefined;
      throw e;
    }
  };

  /** The objects of a node group, by kind (the Secret under 'Secret'). */
  async function objectsOf(
    ns: string,
    fleet: string,
    nodeGroup?: string,
  ): Promise<Map<string, Obj>> {
    const f = lastIr.fleets.find((x) => x.name === fleet)!;
    const g = f.nodeGroups.find((x) => x.name === (nodeGroup ?? fleet))!;
    const name = objectName(f, g);
    const out = new Map<string, Obj>();
    for (const kind of [
      'ServiceAccount',
      'ConfigMap',
      'Service',
      'Deployment',
      'HorizontalPodAutoscaler',
    ]) {
      const o = await get(kind, ns, name);
      if (o) out.set(kind, o);
    }
    const secret = await get('Secret', ns, `${name}-xds-client`);
    if (secret) out.set('Secret', secret);
    return out;
  }

  /**
   * What only a write by the provisioner changes: the resourceVersion, except for the
   * Deployment, whose status kube-controller-manager keeps updating; for it the generation and
   * the provisioner's managed-fields entry (its time moves on every change).
   */
  const versions = (objs: Map<string, Obj>) =>
    Object.fromEntries(
      [...objs].map(([k, o]) => [
        k,
        k === 'Deployment'
          ? {
              generation: o.metadata.generation,
              applied: o.metadata.managedFields.filter((m: Obj) => m.manager === 'gatefleet'),
            }
          : o.metadata.resourceVersion,
      ]),
    );
  const uids = (objs: Map<string, Obj>) =>
    Object.fromEntries([...objs].map(([k, o]) => [k, o.metadata.uid]));

  async function namespace(name: string): Promise<void> {
    await create(admin, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  }

  beforeAll(async () => {
    cluster = await startCluster({ controllerManager: true });
    admin = cluster.rest;
    provisionerRest = await restrictedRest(cluster);
    issuer = new OpensslIssuer();
    provisioner = new Provisioner({ rest: provisionerRest, settings, certificates: issuer });
    await create(admin, {
      apiVersion: gwApi,
      kind: 'GatewayClass',
      metadata: { name: 'gatefleet' },
      spec: { controllerName: 'gatefleet.io/gateway-controller' },
    });
  }, 240_000);

  afterAll(async () => {
    if (issuer) rmSync(issuer.dir, { recursive: true, force: true });
    provisionerRest?.close();
    await cluster?.down();
  });

  it('creates every object, owned by the Gateway; reconciling the same IR again writes nothing', async () => {
    const ns = 'p-basic';
    await namespace(ns);
    const gw = await apply<Obj>(admin, gateway(ns, 'web', {}, [80, 8080]));
    await apply(admin, fleetConfig(ns, 'envoy', { dataPlane: 'envoy' }));
    await apply(admin, gateway(ns, 'proxy', paramsRef('envoy')));
    const first = await reconcile();
    const objs = await objectsOf(ns, `${ns}/web`);
    expect([...objs.keys()].sort()).toEqual([
      'ConfigMap',
      'Deployment',
      'Secret',
      'Service',
      'ServiceAccount',
    ]);
    for (const [kind, o] of objs) {
      expect(o.metadata.ownerReferences, kind).toEqual([
        {
          apiVersion: gwApi,
          kind: 'Gateway',
          name: 'web',
          uid: gw.metadata.uid,
          controller: true,
          blockOwnerDeletion: false,
        },
      ]);
      expect(o.metadata.labels, kind).toMatchObject({
        [Label.ManagedBy]: 'gatefleet',
        [Label.ControllerNamespace]: CONTROLLER_NS,
        [Label.GatewayName]: 'web',
      });
      expect(first.applied).toContain(`${kind} ${ns}/${o.metadata.name}`);
      // One field manager wrote everything.
      expect(o.metadata.managedFields.map((m: Obj) => `${m.manager}/${m.operation}`)).toContain(
        'gatefleet/Apply',
      );
    }
    const svc = objs.get('Service')!;
    expect(svc.spec.type).toBe('LoadBalancer');
    expect(svc.spec.ports.map((p: Obj) => p.port)).toEqual([80, 8080]);
    expect(objs.get('Deployment')!.spec.replicas).toBe(1);
    // The xDS client certificate: the node group's, signed by the CA it ships.
    const secret = objs.get('Secret')!;
    expect(secret.type).toBe('kubernetes.io/tls');
    const pem = (k: string) => Buffer.from(secret.data[k], 'base64').toString('utf8');
    const leaf = new X509Certificate(pem('tls.crt'));
    expect(leaf.subjectAltName).toBe(`URI:${OpensslIssuer.uri(`${ns}/web`)}`);
    expect(leaf.checkIssued(new X509Certificate(pem('ca.crt')))).toBe(true);
    expect(
      leaf.checkPrivateKey(
        await import('node:crypto').then((c) => c.createPrivateKey(pem('tls.key'))),
      ),
    ).toBe(true);
    // The Envoy fleet's Deployment was accepted by the API server's validation too.
    const envoy = await objectsOf(ns, `${ns}/proxy`);
    expect(envoy.get('Deployment')!.spec.template.spec.containers[0].image).toBe(
      settings.envoyImage,
    );
    expect(envoy.get('ConfigMap')!.data['bootstrap.yaml']).toContain(`cluster: ${ns}/proxy`);
    // kube-controller-manager acts on the Deployment (a ReplicaSet owned by it).
    await waitFor('a ReplicaSet of the Deployment', async () => {
      const rs = await admin.get<{ items: Obj[] }>(`/apis/apps/v1/namespaces/${ns}/replicasets`);
      return (
        rs.items.some(
          (r) => r.metadata.ownerReferences?.[0]?.uid === objs.get('Deployment')!.metadata.uid,
        ) || undefined
      );
    });

    const before = { web: versions(objs), proxy: versions(envoy) };
    const issuedBefore = issuer.issued.length;
    const second = await reconcile();
    expect(second.applied).toEqual([]);
    expect(second.pruned).toEqual([]);
    expect(second.unchanged).toBeGreaterThanOrEqual(10);
    // A provisioner with no memory (a restarted controller) sends everything; the API server writes nothing.
    const fresh = new Provisioner({ rest: provisionerRest, settings, certificates: issuer });
    const third = await reconcile(fresh);
    expect(third.applied.length).toBeGreaterThanOrEqual(10);
    expect(third.pruned).toEqual([]);
    expect(issuer.issued.length).toBe(issuedBefore); // the Secrets' certificates were kept
    expect({
      web: versions(await objectsOf(ns, `${ns}/web`)),
      proxy: versions(await objectsOf(ns, `${ns}/proxy`)),
    }).toEqual(before);
  });

  it('updates replicas, Service type and infrastructure labels in place', async () => {
    const ns = 'p-update';
    await namespace(ns);
    await apply(admin, fleetConfig(ns, 'params', { replicas: 2 }));
    await apply(admin, gateway(ns, 'web', paramsRef('params')));
    await reconcile();
    const before = await objectsOf(ns, `${ns}/web`);
    expect(before.get('Deployment')!.spec.replicas).toBe(2);
    expect(before.get('Service')!.spec.type).toBe('LoadBalancer');

    await apply(admin, fleetConfig(ns, 'params', { replicas: 3, serviceType: 'ClusterIP' }));
    await apply(
      admin,
      gateway(ns, 'web', {
        infrastructure: {
          ...paramsRef('params').infrastructure,
          labels: { team: 'payments' },
          annotations: { 'example.com/owner': 'payments' },
        },
      }),
    );
    await reconcile();
    const after = await objectsOf(ns, `${ns}/web`);
    expect(uids(after)).toEqual(uids(before));
    expect(after.get('Deployment')!.spec.replicas).toBe(3);
    const svc = after.get('Service')!;
    expect(svc.spec.type).toBe('ClusterIP');
    expect(svc.spec.ports[0].nodePort).toBeUndefined();
    for (const [kind, o] of after) {
      expect(o.metadata.labels.team, kind).toBe('payments');
      expect(o.metadata.annotations['example.com/owner'], kind).toBe('payments');
    }
    const pod = after.get('Deployment')!.spec.template.metadata;
    expect(pod.labels.team).toBe('payments');
    expect(pod.annotations['example.com/owner']).toBe('payments');
    // ClusterIP: the Gateway's address is the cluster IP.
    expect(provisioner.addressesOf(`${ns}/web`)).toEqual([
      { type: 'IPAddress', value: svc.spec.clusterIP },
    ]);

    // Labels removed from the Gateway leave the objects (server-side apply drops what gatefleet no longer sets).
    await apply(admin, gateway(ns, 'web', paramsRef('params')));
    await apply(admin, fleetConfig(ns, 'params', { replicas: 3, serviceType: 'NodePort' }));
    await reconcile();
    const last = await objectsOf(ns, `${ns}/web`);
    for (const [kind, o] of last) expect(o.metadata.labels.team, kind).toBeUndefined();
    expect(last.get('Service')!.spec.type).toBe('NodePort');
    expect(last.get('Service')!.spec.ports[0].nodePort).toBeGreaterThan(0);
    expect(provisioner.addressesOf(`${ns}/web`)).toEqual([
      { type: 'IPAddress', value: svc.spec.clusterIP },
    ]);
  });

  it('gives every shard its objects and prunes a removed shard', async () => {
    const ns = 'p-shards';
    await namespace(ns);
    await apply(
      admin,
      fleetConfig(ns, 'edge', {
        replicas: 1,
        shards: [{ name: 'dmz', replicas: 2 }, { name: 'internal' }],
      }),
    );
    await apply(admin, gateway(ns, 'edge', paramsRef('edge')));
    await reconcile();
    const dmz = await objectsOf(ns, `${ns}/edge`, `${ns}/edge#dmz`);
    const internal = await objectsOf(ns, `${ns}/edge`, `${ns}/edge#internal`);
    expect(dmz.size).toBe(5);
    expect(internal.size).toBe(5);
    expect(dmz.get('Deployment')!.spec.replicas).toBe(2);
    expect(internal.get('Deployment')!.spec.replicas).toBe(1);
    expect(dmz.get('Service')!.metadata.name).not.toBe(internal.get('Service')!.metadata.name);
    expect(dmz.get('ConfigMap')!.data.GATEFLEET_SHARD).toBe('dmz');

    await apply(
      admin,
      fleetConfig(ns, 'edge', { replicas: 1, shards: [{ name: 'dmz', replicas: 2 }] }),
    );
    const report = await reconcile();
    expect(report.pruned.sort()).toEqual(
      [...internal].map(([kind, o]) => `${kind} ${ns}/${o.metadata.name}`).sort(),
    );
    for (const [kind, o] of internal)
      expect(await get(kind, ns, o.metadata.name), kind).toBeUndefined();
    expect(uids(await objectsOf(ns, `${ns}/edge`, `${ns}/edge#dmz`))).toEqual(uids(dmz));
  });

  it('adds a HorizontalPodAutoscaler for min/max replicas without resetting replicas, and removes it', async () => {
    const ns = 'p-hpa';
    await namespace(ns);
    await apply(admin, fleetConfig(ns, 'params', { replicas: 3 }));
    await apply(admin, gateway(ns, 'web', paramsRef('params')));
    await reconcile();
    expect((await objectsOf(ns, `${ns}/web`)).get('Deployment')!.spec.replicas).toBe(3);

    await apply(admin, fleetConfig(ns, 'params', { replicas: 3, minReplicas: 2, maxReplicas: 5 }));
    await reconcile();
    const scaled = await objectsOf(ns, `${ns}/web`);
    const hpa = scaled.get('HorizontalPodAutoscaler')!;
    expect(hpa.spec).toMatchObject({
      minReplicas: 2,
      maxReplicas: 5,
      scaleTargetRef: {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name: scaled.get('Deployment')!.metadata.name,
      },
    });
    const deployment = scaled.get('Deployment')!;
    // Handed over, not dropped: still 3 (server-side apply would otherwise reset it to 1).
    expect(deployment.spec.replicas).toBe(3);
    const gatefleetOwnsReplicas = deployment.metadata.managedFields.some(
      (m: Obj) => m.manager === 'gatefleet' && m.fieldsV1?.['f:spec']?.['f:replicas'] !== undefined,
    );
    expect(gatefleetOwnsReplicas).toBe(false);

    await apply(admin, fleetConfig(ns, 'params', { replicas: 4 }));
    const report = await reconcile();
    expect(report.pruned).toContain(`HorizontalPodAutoscaler ${ns}/${hpa.metadata.name}`);
    const after = await objectsOf(ns, `${ns}/web`);
    expect(after.has('HorizontalPodAutoscaler')).toBe(false);
    expect(after.get('Deployment')!.spec.replicas).toBe(4);
  });

  it('reports the address a load balancer writes into the Service status, and requested addresses', async () => {
    const ns = 'p-address';
    await namespace(ns);
    await create(
      admin,
      gateway(ns, 'public', { addresses: [{ value: '192.0.2.10' }, { value: '192.0.2.11' }] }),
    );
    await apply(admin, fleetConfig(ns, 'internal', { serviceType: 'ClusterIP' }));
    await create(
      admin,
      gateway(ns, 'internal', { ...paramsRef('internal'), addresses: [{ value: '10.96.77.7' }] }),
    );
    const report = await reconcile();
    expect(report.unfulfilledAddresses).toEqual([
      expect.objectContaining({ fleet: `${ns}/public`, value: '192.0.2.11' }),
    ]);
    const svc = (await objectsOf(ns, `${ns}/public`)).get('Service')!;
    expect(svc.spec.loadBalancerIP).toBe('192.0.2.10');
    expect(provisioner.addressesOf(`${ns}/public`)).toEqual([]); // no load balancer yet

    // What a cloud provider does; the lead feeds Service events to serviceChanged().
    const updated = await admin.request<Obj>(
      'PATCH',
      `${objectPath('Service', ns, svc.metadata.name)}/status`,
      {
        body: {
          status: {
            loadBalancer: { ingress: [{ ip: '192.0.2.10' }, { hostname: 'lb.example.com' }] },
          },
        },
        contentType: 'application/merge-patch+json',
      },
    );
    provisioner.serviceChanged(updated);
    expect(provisioner.addressesOf(`${ns}/public`)).toEqual([
      { type: 'IPAddress', value: '192.0.2.10' },
      { type: 'Hostname', value: 'lb.example.com' },
    ]);
    // The next reconcile (an apply) keeps the status.
    await reconcile(new Provisioner({ rest: provisionerRest, settings, certificates: issuer }));
    expect((await get('Service', ns, svc.metadata.name))!.status.loadBalancer.ingress).toHaveLength(
      2,
    );

    // A requested cluster IP; changing it recreates the Service (spec.clusterIP is immutable).
    const internal = (await objectsOf(ns, `${ns}/internal`)).get('Service')!;
    expect(internal.spec.clusterIP).toBe('10.96.77.7');
    expect(provisioner.addressesOf(`${ns}/internal`)).toEqual([
      { type: 'IPAddress', value: '10.96.77.7' },
    ]);
    await apply(
      admin,
      gateway(ns, 'internal', { ...paramsRef('internal'), addresses: [{ value: '10.96.77.8' }] }),
    );
    await reconcile();
    const moved = (await objectsOf(ns, `${ns}/internal`)).get('Service')!;
    expect(moved.spec.clusterIP).toBe('10.96.77.8');
    expect(moved.metadata.uid).not.toBe(internal.metadata.uid);
    expect(provisioner.addressesOf(`${ns}/internal`)).toEqual([
      { type: 'IPAddress', value: '10.96.77.8' },
    ]);
  });

  it('coalesces overlapping reconciles: the newest IR wins, the waiting calls share its report', async () => {
    const ns = 'p-coalesce';
    await namespace(ns);
    const irs: IR[] = [];
    let gateways: (ns: string, name: string) => KubeObject | undefined = () => undefined;
    for (const replicas of [1, 2, 3]) {
      await apply(admin, fleetConfig(ns, 'params', { replicas }));
      await apply(admin, gateway(ns, 'web', paramsRef('params')));
      const t = await translated();
      irs.push(t.ir);
      gateways = t.gateways;
    }
    const [a, b, c] = await Promise.all(irs.map((ir) => provisioner.reconcile(ir, gateways)));
    expect(b).toBe(c);
    expect(a).not.toBe(b);
    const fleet = irs[0]!.fleets.find((f) => f.name === `${ns}/web`)!;
    const deployment = `Deployment ${ns}/${objectName(fleet, fleet.nodeGroups[0]!)}`;
    expect(a!.applied).toContain(deployment);
    expect(c!.applied).toContain(deployment);
    lastIr = irs[2]!;
    expect((await objectsOf(ns, `${ns}/web`)).get('Deployment')!.spec.replicas).toBe(3);
  });

  it('keeps the objects of a fleet it cannot provision this round (no owner known, issuer failing)', async () => {
    const ns = 'p-keep';
    await namespace(ns);
    await apply(admin, gateway(ns, 'web'));
    await reconcile();
    const before = versions(await objectsOf(ns, `${ns}/web`));
    const { ir, gateways } = await translated();
    // The Gateway is not in the (lagging) cache: the fleet is skipped, nothing of it pruned.
    const hidden = (n: string, name: string) =>
      n === ns && name === 'web' ? undefined : gateways(n, name);
    const skipped = await provisioner.reconcile(ir, hidden);
    expect(skipped.skipped).toEqual([
      expect.objectContaining({ fleet: `${ns}/web`, code: 'GF_PROVISION_NO_OWNER' }),
    ]);
    expect(skipped.pruned).toEqual([]);
    // The issuer fails for the node group: reported, nothing of it pruned.
    const failing = new Provisioner({
      rest: provisionerRest,
      settings,
      certificates: {
        issue: (group, existing) =>
          group === `${ns}/web`
            ? Promise.reject(new Error('CA unavailable'))
            : issuer.issue(group, existing),
      },
    });
    const failed = await failing.reconcile(ir, gateways);
    expect(failed.errors).toEqual([
      { code: 'GF_PROVISION_CERTIFICATE_FAILED', object: `${ns}/web`, message: 'CA unavailable' },
    ]);
    expect(failed.pruned).toEqual([]);
    expect(versions(await objectsOf(ns, `${ns}/web`))).toEqual(before);
  });

  it('recreates a Service reported deleted', async () => {
    const ns = 'p-recreate';
    await namespace(ns);
    await apply(admin, gateway(ns, 'web'));
    await reconcile();
    const svc = (await objectsOf(ns, `${ns}/web`)).get('Service')!;
    await remove(admin, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: svc.metadata.name, namespace: ns },
    });
    provisioner.serviceChanged(svc, true);
    const again = await waitFor(
      'the Service recreated',
      () => get('Service', ns, svc.metadata.name),
      30_000,
    );
    expect(again.metadata.uid).not.toBe(svc.metadata.uid);
  });

  it("never touches objects that are not this installation's", async () => {
    const ns = 'p-foreign';
    await namespace(ns);
    // A ConfigMap squatting the name the provisioner will want, an object of another
    // installation (another controller namespace) and an unlabelled one.
    await apply(admin, gateway(ns, 'web'));
    const { ir } = await translated();
    const fleet = ir.fleets.find((f) => f.name === `${ns}/web`)!;
    const name = objectName(fleet, fleet.nodeGroups[0]!);
    const squatter = await create<Obj>(admin, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, namespace: ns },
      data: { mine: 'yes' },
    });
    const otherInstall = await create<Obj>(admin, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'other-install',
        namespace: ns,
        labels: {
          [Label.ManagedBy]: 'gatefleet',
          [Label.ControllerNamespace]: 'elsewhere',
          [Label.Fleet]: 'x',
        },
      },
    });
    const plain = await create<Obj>(admin, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'plain', namespace: ns },
      spec: { ports: [{ port: 80 }] },
    });
    const { gateways } = await translated();
    const report = await provisioner.reconcile(ir, gateways);
    expect(report.errors).toEqual([
      expect.objectContaining({
        code: 'GF_PROVISION_NAME_TAKEN',
        object: `ConfigMap ${ns}/${name}`,
      }),
    ]);
    // The rest of the node group is provisioned.
    expect(await get('Deployment', ns, name)).toBeDefined();
    // Remove the Gateway and reconcile: the provisioner prunes its own objects, nothing else.
    await remove(admin, gateway(ns, 'web'));
    const after = await translated();
    const pruneReport = await provisioner.reconcile(after.ir, after.gateways);
    expect(pruneReport.pruned).toContain(`Deployment ${ns}/${name}`);
    expect(pruneReport.pruned).not.toContain(`ConfigMap ${ns}/${name}`);
    for (const o of [squatter, otherInstall, plain]) {
      const now = await get(o.kind, ns, o.metadata.name);
      expect(now?.metadata.resourceVersion, o.metadata.name).toBe(o.metadata.resourceVersion);
    }
  });

  it('places a merged fleet with its first Gateway; garbage collection removes it when its owners go', async () => {
    for (const ns of ['p-merge-a', 'p-merge-b']) {
      await namespace(ns);
      await apply(admin, fleetConfig(ns, 'edge', { mergeInto: 'edge-merge-test' }));
    }
    await apply(admin, gateway('p-merge-a', 'one', paramsRef('edge'), [80]));
    await apply(admin, gateway('p-merge-a', 'two', paramsRef('edge'), [8080]));
    const three = await apply<Obj>(admin, gateway('p-merge-b', 'three', paramsRef('edge'), [9090]));
    await reconcile();
    const objs = await objectsOf('p-merge-a', 'merged:edge-merge-test');
    expect(objs.size).toBe(5);
    expect(objs.get('Service')!.metadata.ownerReferences.map((o: Obj) => o.name)).toEqual([
      'one',
      'two',
    ]);
    expect(objs.get('Service')!.spec.ports.map((p: Obj) => p.port)).toEqual([80, 8080, 9090]);

    // Gateway deletion without any reconcile: the garbage collector removes the objects once
    // every owner is gone, not before.
    await remove(admin, gateway('p-merge-a', 'one'));
    await new Promise((r) => setTimeout(r, 3000));
    expect(
      await get('Deployment', 'p-merge-a', objs.get('Deployment')!.metadata.name),
    ).toBeDefined();
    await remove(admin, gateway('p-merge-a', 'two'));
    for (const [kind, o] of objs)
      await waitFor(
        `${kind} garbage-collected`,
        async () => (await get(kind, 'p-merge-a', o.metadata.name)) === undefined || undefined,
        120_000,
        500,
      );

    // The fleet lives on with its remaining Gateway, now in that one's namespace.
    await reconcile();
    const moved = await objectsOf('p-merge-b', 'merged:edge-merge-test');
    expect(moved.size).toBe(5);
    expect(moved.get('Deployment')!.metadata.ownerReferences).toEqual([
      expect.objectContaining({ name: 'three', uid: three.metadata.uid }),
    ]);
  }, 180_000);

  it("deleting a Gateway garbage-collects its own fleet's objects", async () => {
    const ns = 'p-gc';
    await namespace(ns);
    await apply(admin, gateway(ns, 'web'));
    await apply(admin, gateway(ns, 'stays'));
    await reconcile();
    const objs = await objectsOf(ns, `${ns}/web`);
    const stays = await objectsOf(ns, `${ns}/stays`);
    expect(objs.size).toBe(5);
    await remove(admin, gateway(ns, 'web'));
    for (const [kind, o] of objs)
      await waitFor(
        `${kind} garbage-collected`,
        async () => (await get(kind, ns, o.metadata.name)) === undefined || undefined,
        120_000,
        500,
      );
    expect(versions(await objectsOf(ns, `${ns}/stays`))).toEqual(versions(stays));
  }, 180_000);
});
