// The Envoy bootstrap of a `dataPlane: envoy` node group (pure). Envoy
// receives everything else over ADS from the same xDS server the gatefleet
// gateways use:
// - node.cluster is the node group name (the xDS server keys snapshots by
//   it); node.id is left out here and given per pod with
//   `--service-node $(GATEFLEET_NODE_ID)` (the pod name through the downward
//   API; Kubernetes expands $(VAR) in args), which Envoy uses as node.id.
// - ADS is incremental (DELTA_GRPC, v3) over gRPC to the controller's xDS
//   Service, as a static cluster with HTTP/2 and mTLS: the node group's
//   client certificate and the CA that verifies the controller, read from the
//   mounted Secret's files; the controller's certificate must name
//   `serverName` (SNI and SAN check), and ALPN offers h2 (the xDS server is an
//   HTTP/2-only gRPC server).
// - The admin interface binds 127.0.0.1 only (its /config_dump, /quitquitquit
//   must not be reachable from the network); a static listener on all
//   interfaces answers the kubelet's readiness probe by forwarding exactly
//   /ready to it.
// Field names are the protos' (snake_case), which Envoy's YAML loader takes;
// a unit test checks the result against envoy.config.bootstrap.v3.Bootstrap.
import { isIP } from 'node:net';

export interface EnvoyBootstrapInput {
  nodeGroup: string;
  /** host:port of the controller's xDS Service. */
  xdsAddress: string;
  /** Name to verify the controller's certificate for; default: the xDS host. */
  xdsServerName?: string;
  adminPort: number;
  readyPort: number;
  /** Files of the mounted client certificate Secret. */
  caFile: string;
  certFile: string;
  keyFile: string;
}

export const XDS_CLUSTER = 'gatefleet-xds';
export const ADMIN_CLUSTER = 'gatefleet-envoy-admin';
export const READY_LISTENER = 'gatefleet-readiness';

const TYPE = 'type.googleapis.com/';

export function splitHostPort(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  const port = Number(address.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`xDS address "${address}" is not host:port`);
  }
  return { host: address.slice(0, i).replace(/^\[|\]$/g, ''), port };
}

function socketAddress(address: string, port: number): Record<string, unknown> {
  return { socket_address: { address, port_value: port } };
}

function staticEndpoint(cluster: string, address: string, port: number): Record<string, unknown> {
  return {
    cluster_name: cluster,
    endpoints: [{ lb_endpoints: [{ endpoint: { address: socketAddress(address, port) } }] }],
  };
}

export function envoyBootstrap(input: EnvoyBootstrapInput): Record<string, unknown> {
  const { host, port } = splitHostPort(input.xdsAddress);
  const serverName = input.xdsServerName ?? host;
  const hostIsIp = isIP(host) !== 0;
  const sanType = isIP(serverName) !== 0 ? 'IP_ADDRESS' : 'DNS';
  const ads = { ads: {}, resource_api_version: 'V3' };
  return {
    node: { cluster: input.nodeGroup },
    dynamic_resources: {
      ads_config: {
        api_type: 'DELTA_GRPC',
        transport_api_version: 'V3',
        grpc_services: [{ envoy_grpc: { cluster_name: XDS_CLUSTER } }],
        set_node_on_first_message_only: true,
      },
      cds_config: ads,
      lds_config: ads,
    },
    static_resources: {
      listeners: [
        {
          name: READY_LISTENER,
          address: socketAddress('0.0.0.0', input.readyPort),
          filter_chains: [
            {
              filters: [
                {
                  name: 'envoy.filters.network.http_connection_manager',
                  typed_config: {
                    '@type': `${TYPE}envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager`,
                    stat_prefix: 'gatefleet_readiness',
                    route_config: {
                      name: READY_LISTENER,
                      virtual_hosts: [
                        {
                          name: READY_LISTENER,
                          domains: ['*'],
                          routes: [
                            { match: { path: '/ready' }, route: { cluster: ADMIN_CLUSTER } },
                          ],
                        },
                      ],
                    },
                    http_filters: [
                      {
                        name: 'envoy.filters.http.router',
                        typed_config: {
                          '@type': `${TYPE}envoy.extensions.filters.http.router.v3.Router`,
                        },
                      },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
      clusters: [
        {
          name: XDS_CLUSTER,
          type: hostIsIp ? 'STATIC' : 'STRICT_DNS',
          connect_timeout: '5s',
          load_assignment: staticEndpoint(XDS_CLUSTER, host, port),
          typed_extension_protocol_options: {
            'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
              '@type': `${TYPE}envoy.extensions.upstreams.http.v3.HttpProtocolOptions`,
              explicit_http_config: { http2_protocol_options: {} },
            },
          },
          transport_socket: {
            name: 'envoy.transport_sockets.tls',
            typed_config: {
              '@type': `${TYPE}envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext`,
              // SNI carries host names only; an IP is still checked as a SAN below.
              ...(sanType === 'DNS' ? { sni: serverName } : {}),
              common_tls_context: {
                alpn_protocols: ['h2'],
                tls_certificates: [
                  {
                    certificate_chain: { filename: input.certFile },
                    private_key: { filename: input.keyFile },
                  },
                ],
                validation_context: {
                  trusted_ca: { filename: input.caFile },
                  match_typed_subject_alt_names: [
                    { san_type: sanType, matcher: { exact: serverName } },
                  ],
                },
              },
            },
          },
        },
        {
          name: ADMIN_CLUSTER,
          type: 'STATIC',
          connect_timeout: '1s',
          load_assignment: staticEndpoint(ADMIN_CLUSTER, '127.0.0.1', input.adminPort),
        },
      ],
    },
    admin: { address: socketAddress('127.0.0.1', input.adminPort) },
  };
}
