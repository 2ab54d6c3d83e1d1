// IR clusters → Envoy Cluster (endpoints by EDS over ADS) and
// ClusterLoadAssignment. `kubernetes.io/h2c` backends speak HTTP/2 in clear
// text; everything else HTTP/1.1 (WebSocket upgrades are enabled per route).
// A cluster with upstream TLS (BackendTLSPolicy) gets a TLS transport socket.
import type { Cluster, UpstreamTls } from '../../controller/ir/types.js';
import { adsConfigSource, duration, Ext, FilterName, wrap } from './common.js';

export const CONNECT_TIMEOUT_MS = 5_000;

// Built once per IR cluster (IR is immutable): the same object back lets the
// snapshot encoder skip it by identity.
const builtClusters = new WeakMap<Cluster, Record<string, unknown>>();
const builtAssignments = new WeakMap<Cluster, Record<string, unknown>>();

export function buildCluster(c: Cluster): Record<string, unknown> {
  let r = builtClusters.get(c);
  if (!r) builtClusters.set(c, (r = clusterResource(c)));
  return r;
}

export function buildLoadAssignment(c: Cluster): Record<string, unknown> {
  let r = builtAssignments.get(c);
  if (!r) builtAssignments.set(c, (r = loadAssignment(c)));
  return r;
}

function clusterResource(c: Cluster): Record<string, unknown> {
  const explicit =
    c.protocol === 'h2c' ? { http2_protocol_options: {} } : { http_protocol_options: {} };
  return {
    name: c.name,
    type: 'EDS',
    eds_cluster_config: { eds_config: adsConfigSource(), service_name: c.name },
    connect_timeout: duration(CONNECT_TIMEOUT_MS),
    lb_policy: 'ROUND_ROBIN',
    typed_extension_protocol_options: {
      [FilterName.HttpProtocolOptions]: {
        '@type': Ext.HttpProtocolOptions,
        explicit_http_config: explicit,
      },
    },
    ...(c.tls ? { transport_socket: upstreamTlsSocket(c.tls) } : {}),
  };
}

/**
 * TLS to the backend: SNI is the policy's hostname; the certificate must chain
 * to the policy's CAs (or the system roots) and carry one of the policy's
 * subjectAltNames — or, without any, the hostname as a DNS SAN. Envoy checks
 * no name unless told to, so the hostname is always listed as a matcher.
 * With a client certificate, the gateway presents it (SDS secret by name).
 */
function upstreamTlsSocket(t: UpstreamTls): Record<string, unknown> {
  const sans =
    t.subjectAltNames.length > 0
      ? t.subjectAltNames
      : [{ type: 'Hostname' as const, value: t.sni }];
  return {
    name: FilterName.Tls,
    typed_config: {
      '@type': Ext.UpstreamTlsContext,
      sni: t.sni,
      common_tls_context: {
        // The fleet's client certificate, by name over SDS (never inline: the
        // key then travels only in the Secret resource, like a listener's).
        ...(t.clientCertificate !== undefined
          ? {
              tls_certificate_sds_secret_configs: [
                { name: t.clientCertificate, sds_config: adsConfigSource() },
              ],
            }
          : {}),
        alpn_protocols: ['http/1.1'],
        validation_context: {
          ...(t.caCertificates !== '' ? { trusted_ca: { inline_string: t.caCertificates } } : {}),
          ...(t.systemRoots ? { system_root_certs: {} } : {}),
          match_typed_subject_alt_names: sans.map((s) => ({
            san_type: s.type === 'URI' ? 'URI' : 'DNS',
            matcher: { exact: s.value },
          })),
        },
      },
    },
  };
}

function loadAssignment(c: Cluster): Record<string, unknown> {
  return {
    cluster_name: c.name,
    endpoints:
      c.endpoints.length === 0
        ? []
        : [
            {
              // gRPC's xDS clients need a locality with a weight; Envoy ignores both here.
              locality: {},
              load_balancing_weight: wrap(1),
              lb_endpoints: c.endpoints.map((e) => ({
                endpoint: {
                  address: { socket_address: { address: e.address, port_value: e.port } },
                },
                health_status: e.state === 'ready' ? 'HEALTHY' : 'DRAINING',
              })),
            },
          ],
  };
}
