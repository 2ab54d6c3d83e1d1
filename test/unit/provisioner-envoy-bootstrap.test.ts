// The Envoy data plane's bootstrap, checked against Envoy's own Bootstrap
// proto (strict proto3 JSON: unknown fields and wrong types fail, then the
// protoc-gen-validate rules), exactly as the ConfigMap carries it (YAML).
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Fleet } from '../../controller/ir/types.js';
import type { KubeObject } from '../../controller/providers/kube/kinds.js';
import { checkEnvoyBootstrap } from '../../controller/provisioner/envoy-bootstrap-check.js';
import {
  ADMIN_CLUSTER,
  READY_LISTENER,
  XDS_CLUSTER,
  envoyBootstrap,
} from '../../controller/provisioner/envoy-bootstrap.js';
import { renderNodeGroup } from '../../controller/provisioner/render.js';
import { DEFAULT_ENVOY_IMAGE } from '../../controller/provisioner/settings.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const fleet: Fleet = {
  name: 'infra/edge',
  gateways: [{ namespace: 'infra', name: 'edge' }],
  infrastructure: { labels: {}, annotations: {}, addresses: [] },
  deployment: { replicas: 2, serviceType: 'LoadBalancer', dataPlane: 'envoy' },
  nodeGroups: [
    {
      name: 'infra/edge#dmz',
      shard: 'dmz',
      replicas: 2,
      listeners: [
        { name: 'http-80', port: 80, protocol: 'HTTP', filterChains: [] },
        { name: 'http-15021', port: 15021, protocol: 'HTTP', filterChains: [] },
      ],
      clusters: [],
      secrets: [],
    },
  ],
};

function renderedBootstrap(xdsAddress: string, xdsServerName?: string): Obj {
  const r = renderNodeGroup({
    fleet,
    group: fleet.nodeGroups[0]!,
    settings: {
      gatewayImage: 'gatefleet/gateway:test',
      envoyImage: DEFAULT_ENVOY_IMAGE,
      xdsAddress,
      ...(xdsServerName ? { xdsServerName } : {}),
      controllerNamespace: 'gatefleet-system',
    },
    placement: { namespace: 'infra', owners: [] },
    clientCertificate: { 'ca.crt': 'ca', 'tls.crt': 'crt', 'tls.key': 'key' },
  });
  const cm = r.objects.find((o: KubeObject) => o.kind === 'ConfigMap') as Obj;
  return parse(cm.data['bootstrap.yaml']) as Obj;
}

const base = () =>
  envoyBootstrap({
    nodeGroup: 'infra/edge',
    xdsAddress: 'gatefleet-xds.gatefleet-system.svc:18000',
    adminPort: 15000,
    readyPort: 15021,
    caFile: '/ca.crt',
    certFile: '/tls.crt',
    keyFile: '/tls.key',
  }) as Obj;

describe('Envoy bootstrap', () => {
  it('loads as envoy.config.bootstrap.v3.Bootstrap, from the ConfigMap YAML', () => {
    const b = renderedBootstrap(
      'gatefleet-xds.gatefleet-system.svc:18000',
      'gatefleet-xds.gatefleet-system.svc',
    );
    expect(checkEnvoyBootstrap(b)).toEqual([]);
    // An IP xDS address (a STATIC cluster) and an IP server name (no SNI, an IP SAN) load too.
    const ip = renderedBootstrap('10.96.0.10:18000');
    expect(checkEnvoyBootstrap(ip)).toEqual([]);
    const xds = ip.static_resources.clusters.find((c: Obj) => c.name === XDS_CLUSTER);
    expect(xds.type).toBe('STATIC');
    expect(xds.transport_socket.typed_config.sni).toBeUndefined();
    expect(
      xds.transport_socket.typed_config.common_tls_context.validation_context
        .match_typed_subject_alt_names,
    ).toEqual([{ san_type: 'IP_ADDRESS', matcher: { exact: '10.96.0.10' } }]);
  });

  it('names the node group, speaks delta ADS with mTLS over h2, keeps admin on loopback', () => {
    const b = renderedBootstrap('gatefleet-xds.gatefleet-system.svc:18000', 'xds.gatefleet.test');
    expect(b.node).toEqual({ cluster: 'infra/edge#dmz' });
    expect(b.dynamic_resources.ads_config.api_type).toBe('DELTA_GRPC');
    expect(b.dynamic_resources.ads_config.grpc_services).toEqual([
      { envoy_grpc: { cluster_name: XDS_CLUSTER } },
    ]);
    const xds = b.static_resources.clusters.find((c: Obj) => c.name === XDS_CLUSTER);
    expect(xds.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address).toEqual({
      socket_address: { address: 'gatefleet-xds.gatefleet-system.svc', port_value: 18000 },
    });
    const tls = xds.transport_socket.typed_config;
    expect(tls.sni).toBe('xds.gatefleet.test');
    expect(tls.common_tls_context.alpn_protocols).toEqual(['h2']);
    expect(tls.common_tls_context.tls_certificates).toEqual([
      {
        certificate_chain: { filename: '/etc/gatefleet/xds-client/tls.crt' },
        private_key: { filename: '/etc/gatefleet/xds-client/tls.key' },
      },
    ]);
    expect(tls.common_tls_context.validation_context.trusted_ca).toEqual({
      filename: '/etc/gatefleet/xds-client/ca.crt',
    });
    // The listener on 15021 moved the readiness port to 15022; admin stays on loopback.
    expect(b.admin.address.socket_address).toEqual({ address: '127.0.0.1', port_value: 15000 });
    const ready = b.static_resources.listeners.find((l: Obj) => l.name === READY_LISTENER);
    expect(ready.address.socket_address).toEqual({ address: '0.0.0.0', port_value: 15022 });
    const routes =
      ready.filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes;
    expect(routes).toEqual([{ match: { path: '/ready' }, route: { cluster: ADMIN_CLUSTER } }]);
  });

  it('fails on what Envoy would refuse: unknown fields, wrong types, bad enums, PGV rules', () => {
    const cases: [string, (b: Obj) => void, RegExp][] = [
      ['unknown top-level field', (b) => (b.nodes = {}), /nodes: unknown field/],
      [
        'unknown field inside an Any payload',
        (b) => (b.static_resources.clusters[0].transport_socket.typed_config.snii = 'x'),
        /snii: unknown field of envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext/,
      ],
      [
        'port as text',
        (b) => (b.admin.address.socket_address.port_value = 'admin'),
        /port_value: expected an integer/,
      ],
      ['bad enum name', (b) => (b.dynamic_resources.ads_config.api_type = 'DELTA'), /api_type/],
      [
        'duration without unit',
        (b) => (b.static_resources.clusters[0].connect_timeout = '5'),
        /connect_timeout: expected a duration/,
      ],
      [
        'list given as a scalar',
        (b) => (b.dynamic_resources.ads_config.grpc_services = { envoy_grpc: {} }),
        /grpc_services: expected a list/,
      ],
      [
        'Any of an unknown type',
        (b) =>
          (b.static_resources.clusters[0].transport_socket.typed_config['@type'] =
            'type.googleapis.com/envoy.Nope'),
        /unknown type/,
      ],
      [
        'two members of a oneof',
        (b) =>
          (b.dynamic_resources.ads_config.grpc_services[0].google_grpc = {
            target_uri: 'x',
            stat_prefix: 'x',
          }),
        /oneof target_specifier/,
      ],
      [
        'port above 65535 (PGV)',
        (b) => (b.admin.address.socket_address.port_value = 70000),
        /port_value/,
      ],
      [
        'empty cluster name (PGV)',
        (b) => (b.static_resources.clusters[1].name = ''),
        /clusters\[1\]\.name/,
      ],
    ];
    expect(checkEnvoyBootstrap(base())).toEqual([]);
    for (const [what, mutate, expected] of cases) {
      const b = base();
      mutate(b);
      const problems = checkEnvoyBootstrap(b);
      expect(problems.join('\n'), what).toMatch(expected);
    }
  });

  it('accepts the JSON names Envoy also reads', () => {
    const b = base();
    b.staticResources = b.static_resources;
    delete b.static_resources;
    expect(checkEnvoyBootstrap(b)).toEqual([]);
  });
});
