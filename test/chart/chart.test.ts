// charts/gatefleet rendered with the real Helm (hack/tools/helm.sh): lint, least-privilege RBAC,
// the controller Deployment's shape and hardening, the xDS Service, the mTLS Secret, and
// values.schema.json refusing bad values.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CHART_DIR,
  HELM_INSTALL_TIMEOUT_MS,
  ROOT,
  helm,
  lintChart,
  renderChart,
  type RenderedChart,
} from '../support/chart.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- rendered manifests are walked freely */
type Any = any;

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  verbs: string[];
}

/** Every rule as `group/resource[name]:verb`, sorted: rule layout does not matter, grants do. */
function grants(rules: Rule[]): string[] {
  const out: string[] = [];
  for (const r of rules) {
    for (const g of r.apiGroups ?? [''])
      for (const res of r.resources ?? [])
        for (const n of r.resourceNames ?? [''])
          for (const v of r.verbs) out.push(`${g}/${res}${n ? `[${n}]` : ''}:${v}`);
  }
  return out.sort();
}

const expand = (groups: string[], resources: string[], verbs: string[]): string[] =>
  grants([{ apiGroups: groups, resources, verbs }]);

const READ = ['get', 'list', 'watch'];
const PROVISION = ['create', 'patch', 'delete', 'get', 'list', 'watch'];
const EXPECTED_CLUSTER_GRANTS = [
  ...expand(
    ['gateway.networking.k8s.io'],
    ['gatewayclasses', 'gateways', 'httproutes', 'referencegrants', 'backendtlspolicies'],
    READ,
  ),
  ...expand(['gatefleet.io'], ['fleetconfigs'], READ),
  ...expand([''], ['secrets', 'namespaces'], READ),
  // Fleets' xDS client-certificate Secrets.
  ...expand([''], ['secrets'], ['create', 'patch', 'delete']),
  ...expand(['discovery.k8s.io'], ['endpointslices'], READ),
  ...expand(['apiextensions.k8s.io'], ['customresourcedefinitions'], READ),
  ...expand(
    ['gateway.networking.k8s.io'],
    ['gatewayclasses/status', 'gateways/status', 'httproutes/status', 'backendtlspolicies/status'],
    ['update', 'patch'],
  ),
  ...expand(['gatefleet.io'], ['fleetconfigs/status'], ['update', 'patch']),
  ...expand([''], ['services', 'serviceaccounts', 'configmaps'], PROVISION),
  ...expand(['apps'], ['deployments'], PROVISION),
  ...expand(['autoscaling'], ['horizontalpodautoscalers'], PROVISION),
  ...expand(['', 'events.k8s.io'], ['events'], ['create', 'patch']),
].sort();

const controller = (c: RenderedChart): Any => c.get('Deployment', 'gatefleet-controller');
const container = (c: RenderedChart): Any => controller(c).spec.template.spec.containers[0];
const env = (c: RenderedChart): Record<string, Any> =>
  Object.fromEntries(container(c).env.map((e: Any) => [e.name, e.value ?? e.valueFrom]));

describe('charts/gatefleet', () => {
  let chart: RenderedChart;

  beforeAll(async () => {
    await helm();
    chart = await renderChart();
  }, HELM_INSTALL_TIMEOUT_MS);

  it('passes helm lint --strict, with the generated certificates and with a given Secret', async () => {
    expect(await lintChart()).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    expect(await lintChart({ xds: { tls: { secretName: 'xds-certs' } } })).toMatch(
      /0 chart\(s\) failed/,
    );
  });

  it('renders exactly the objects of the controller, in the release namespace', () => {
    expect(chart.objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(
      [
        'ClusterRole/gatefleet-controller',
        'ClusterRoleBinding/gatefleet-controller',
        'Deployment/gatefleet-controller',
        'GatewayClass/gatefleet',
        'Role/gatefleet-controller-leader-election',
        'RoleBinding/gatefleet-controller-leader-election',
        'Secret/gatefleet-xds-tls',
        'Service/gatefleet-xds',
        'ServiceAccount/gatefleet-controller',
      ].sort(),
    );
    const clusterScoped = ['ClusterRole', 'ClusterRoleBinding', 'GatewayClass'];
    for (const o of chart.objects) {
      expect(o.metadata.namespace, o.kind).toBe(
        clusterScoped.includes(o.kind) ? undefined : 'gatefleet-system',
      );
    }
  });

  it('runs two controller replicas, spread over nodes, with probes and the downward API', () => {
    const d = controller(chart);
    expect(d.spec.replicas).toBe(2);
    const pod = d.spec.template.spec;
    expect(pod.serviceAccountName).toBe('gatefleet-controller');
    expect(pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution).toEqual([
      {
        weight: 100,
        podAffinityTerm: {
          topologyKey: 'kubernetes.io/hostname',
          labelSelector: { matchLabels: d.spec.selector.matchLabels },
        },
      },
    ]);
    const c = container(chart);
    expect(c.image).toBe('gatefleet/controller:0.1.0');
    const ports = Object.fromEntries(c.ports.map((p: Any) => [p.name, p.containerPort]));
    expect(ports).toEqual({ xds: 18000, admin: 9090 });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/ready', port: 'admin' });
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'admin' });

    const e = env(chart);
    expect(e.GATEFLEET_NAMESPACE).toEqual({ fieldRef: { fieldPath: 'metadata.namespace' } });
    expect(e.GATEFLEET_POD_NAME).toEqual({ fieldRef: { fieldPath: 'metadata.name' } });
    expect(e.GATEFLEET_CONTROLLER_NAME).toBe('gatefleet.io/gateway-controller');
    expect(e.GATEFLEET_LEADER_ELECTION_LEASE).toBe('gatefleet-controller');
    expect(e.GATEFLEET_XDS).toBe('0.0.0.0:18000');
    expect(e.GATEFLEET_GATEWAY_IMAGE).toBe('gatefleet/gateway:0.1.0');
    expect(e.GATEFLEET_GATEWAY_XDS).toBe('gatefleet-xds.gatefleet-system.svc:18000');
  });

  it('hardens the pod: non-root, read-only root filesystem, no capabilities, RuntimeDefault seccomp', () => {
    const pod = controller(chart).spec.template.spec;
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(pod.hostNetwork ?? false).toBe(false);
    const sc = container(chart).securityContext;
    expect(sc).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    // A read-only root needs a writable /tmp.
    expect(container(chart).volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
  });

  it('grants exactly the intended RBAC: no wildcard, status only through /status, leases by name', () => {
    const cr = chart.get('ClusterRole');
    const rules = cr.rules as Rule[];
    expect(grants(rules)).toEqual(EXPECTED_CLUSTER_GRANTS);
    for (const r of rules) {
      expect([...(r.apiGroups ?? []), ...(r.resources ?? []), ...r.verbs]).not.toContain('*');
      expect(r.resourceNames).toBeUndefined();
      expect((r as Any).nonResourceURLs).toBeUndefined();
    }
    // Never: writing Gateway API specs, Secrets' updates, RBAC, pods; escalate, bind, impersonate.
    const all = grants(rules).join(' ');
    for (const bad of [
      'gateway.networking.k8s.io/gateways:update',
      'gateway.networking.k8s.io/httproutes:patch',
      '/secrets:update',
      '/pods:',
      'rbac.authorization.k8s.io',
      ':escalate',
      ':bind',
      ':impersonate',
    ]) {
      expect(all).not.toContain(bad);
    }

    const crb = chart.get('ClusterRoleBinding');
    expect(crb.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: cr.metadata.name,
    });
    expect(crb.subjects).toEqual([
      { kind: 'ServiceAccount', name: 'gatefleet-controller', namespace: 'gatefleet-system' },
    ]);

    const role = chart.get('Role');
    expect(role.metadata.namespace).toBe('gatefleet-system');
    expect(grants(role.rules as Rule[])).toEqual(
      [
        'coordination.k8s.io/leases:create',
        'coordination.k8s.io/leases[gatefleet-controller]:get',
        'coordination.k8s.io/leases[gatefleet-controller]:update',
      ].sort(),
    );
    const rb = chart.get('RoleBinding');
    expect(rb.roleRef).toMatchObject({ kind: 'Role', name: role.metadata.name });
    expect(rb.subjects).toEqual(crb.subjects);
  });

  it('names the lease the controller uses in the Role', async () => {
    const c = await renderChart({ controller: { leaderElection: { leaseName: 'gf-leader' } } });
    expect(env(c).GATEFLEET_LEADER_ELECTION_LEASE).toBe('gf-leader');
    expect((c.get('Role').rules as Rule[])[1]!.resourceNames).toEqual(['gf-leader']);
  });

  it('exposes only xDS (18000) through the ClusterIP Service, never an admin port', async () => {
    const check = (c: RenderedChart, port: number) => {
      const services = c.all('Service');
      expect(services).toHaveLength(1);
      const svc = services[0] as Any;
      expect(svc.spec.type).toBe('ClusterIP');
      expect(svc.spec.ports).toEqual([
        { name: 'grpc-xds', port, targetPort: 'xds', protocol: 'TCP', appProtocol: 'grpc' },
      ]);
      expect(svc.spec.selector).toEqual(controller(c).spec.selector.matchLabels);
      const xds = container(c).ports.find((p: Any) => p.name === 'xds');
      expect(xds.containerPort).toBe(port);
    };
    check(chart, 18000);
    check(await renderChart({ xds: { port: 18443 } }), 18443);
  });

  it('generates a CA and an xDS certificate for the Service when no Secret is given', () => {
    const secret = chart.get('Secret') as Any;
    expect(secret.type).toBe('kubernetes.io/tls');
    expect(Object.keys(secret.data).sort()).toEqual(['ca.crt', 'ca.key', 'tls.crt', 'tls.key']);
    const pem = (k: string) => Buffer.from(secret.data[k], 'base64');
    const ca = new X509Certificate(pem('ca.crt'));
    const cert = new X509Certificate(pem('tls.crt'));
    expect(ca.ca).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(pem('tls.key')))).toBe(true);
    // The CA's key, from which the controller issues gateways' client certificates.
    expect(ca.checkPrivateKey(createPrivateKey(pem('ca.key')))).toBe(true);
    expect(cert.checkHost('gatefleet-xds.gatefleet-system.svc')).toBe(
      'gatefleet-xds.gatefleet-system.svc',
    );
    // The controller's env names these files in a Secret volume mounted without subPath, so a
    // rotated Secret reaches the running controller.
    const pod = controller(chart).spec.template.spec;
    expect(pod.volumes).toContainEqual({
      name: 'xds-tls',
      secret: { secretName: secret.metadata.name },
    });
    const mount = container(chart).volumeMounts.find((m: Any) => m.name === 'xds-tls');
    expect(mount).toEqual({ name: 'xds-tls', mountPath: '/etc/gatefleet/xds-tls', readOnly: true });
    const e = env(chart);
    expect([e.GATEFLEET_XDS_CA, e.GATEFLEET_XDS_CERT, e.GATEFLEET_XDS_KEY]).toEqual(
      ['ca.crt', 'tls.crt', 'tls.key'].map((f) => `/etc/gatefleet/xds-tls/${f}`),
    );
    expect(e.GATEFLEET_XDS_TLS_SECRET).toBe('gatefleet-system/gatefleet-xds-tls');
    expect(controller(chart).spec.template.metadata.annotations).toBeUndefined();
  });

  it('uses a given Secret for mTLS and renders none of its own', async () => {
    const c = await renderChart({ xds: { tls: { secretName: 'xds-certs' } } });
    expect(c.all('Secret')).toEqual([]);
    expect(controller(c).spec.template.spec.volumes).toContainEqual({
      name: 'xds-tls',
      secret: { secretName: 'xds-certs' },
    });
    expect(env(c).GATEFLEET_XDS_TLS_SECRET).toBe('gatefleet-system/xds-certs');
  });

  it('refuses to run xDS without TLS', async () => {
    await expect(renderChart({ xds: { tls: { generate: false } } })).rejects.toThrow(
      /xds\.tls\.secretName is required/,
    );
  });

  it('makes the GatewayClass optional and its name configurable', async () => {
    expect(chart.get('GatewayClass').spec).toEqual({
      controllerName: 'gatefleet.io/gateway-controller',
    });
    expect((await renderChart({ gatewayClass: { create: false } })).all('GatewayClass')).toEqual(
      [],
    );
    const named = await renderChart({ gatewayClass: { name: 'edge' } });
    expect(named.get('GatewayClass').metadata.name).toBe('edge');
  });

  it('passes scheduling values through and takes image tags from values', async () => {
    const c = await renderChart({
      controller: {
        image: { tag: 'dev' },
        nodeSelector: { 'kubernetes.io/os': 'linux' },
        tolerations: [{ key: 'infra', operator: 'Exists', effect: 'NoSchedule' }],
        affinity: { nodeAffinity: {} },
      },
      gateway: { image: { repository: 'registry.example/gw', tag: 'v9' } },
    });
    const pod = controller(c).spec.template.spec;
    expect(pod.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
    expect(pod.tolerations).toEqual([{ key: 'infra', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(pod.affinity).toEqual({ nodeAffinity: {} });
    expect(container(c).image).toBe('gatefleet/controller:dev');
    expect(env(c).GATEFLEET_GATEWAY_IMAGE).toBe('registry.example/gw:v9');
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['replicas: "two"', { controller: { replicas: 'two' } }, "/controller/replicas': got string"],
    ['an unknown key', { controller: { replica: 2 } }, "'replica' not allowed"],
    ['an unknown top-level key', { rbac: { create: false } }, "'rbac' not allowed"],
    [
      'runAsNonRoot: false',
      { controller: { podSecurityContext: { runAsNonRoot: false } } },
      '/controller/podSecurityContext/runAsNonRoot',
    ],
    [
      'a privilege escalation',
      { controller: { securityContext: { allowPrivilegeEscalation: true } } },
      '/controller/securityContext/allowPrivilegeEscalation',
    ],
    [
      'an added capability',
      { controller: { securityContext: { capabilities: { add: ['NET_ADMIN'] } } } },
      '/controller/securityContext/capabilities/add',
    ],
    ['a bad log level', { controller: { logLevel: 'verbose' } }, '/controller/logLevel'],
    ['a port out of range', { xds: { port: 70000 } }, '/xds/port'],
    [
      'a bad pull policy',
      { gateway: { image: { pullPolicy: 'Sometimes' } } },
      '/gateway/image/pullPolicy',
    ],
    [
      'a bad memory quantity',
      { controller: { resources: { limits: { memory: 'lots' } } } },
      '/controller/resources/limits/memory',
    ],
  ])('values.schema.json rejects %s', async (_what, values, where) => {
    const err = await renderChart(values).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toContain("values don't meet the specifications of the schema");
    expect(err?.message).toContain(where);
  });

  it('ships the FleetConfig CRD unchanged and no Gateway API CRD', async () => {
    const withCrds = await renderChart({}, { includeCrds: true });
    const crds = withCrds.all('CustomResourceDefinition');
    expect(crds.map((c) => c.metadata.name)).toEqual(['fleetconfigs.gatefleet.io']);
    expect(withCrds.objects[0]!.kind).toBe('CustomResourceDefinition');
    const [shipped, source] = await Promise.all([
      readFile(join(CHART_DIR, 'crds', 'gatefleet.io_fleetconfigs.yaml'), 'utf8'),
      readFile(join(ROOT, 'controller/apis/crds/gatefleet/gatefleet.io_fleetconfigs.yaml'), 'utf8'),
    ]);
    expect(shipped).toBe(source);
  });
});
