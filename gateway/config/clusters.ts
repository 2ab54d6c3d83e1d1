// Cluster + ClusterLoadAssignment → where the gateway sends requests:
// protocol, connect timeout and the endpoints (healthy ones first, draining
// ones only when none is healthy).
import type { Cluster__Output as Cluster } from '../../xds/generated/envoy/config/cluster/v3/Cluster.js';
import type { ClusterLoadAssignment__Output as ClusterLoadAssignment } from '../../xds/generated/envoy/config/endpoint/v3/ClusterLoadAssignment.js';
import type { HttpProtocolOptions__Output as HttpProtocolOptions } from '../../xds/generated/envoy/extensions/upstreams/http/v3/HttpProtocolOptions.js';
import { TYPE_PREFIX } from '../../xds/proto/root.js';
import { ConfigError, durationMs, unpackAny } from './decode.js';
import { compileUpstreamTls, type UpstreamTlsSpec } from './upstream-tls.js';

const PROTOCOL_OPTIONS = `${TYPE_PREFIX}envoy.extensions.upstreams.http.v3.HttpProtocolOptions`;

export interface CompiledClusterSpec {
  name: string;
  /** The EDS resource that holds its endpoints. */
  edsName: string;
  http2: boolean;
  connectTimeoutMs: number;
  /** TLS to the endpoints (BackendTLSPolicy), verified as it says. */
  tls?: UpstreamTlsSpec;
}

export interface UpstreamEndpoint {
  address: string;
  port: number;
  healthy: boolean;
}

export function compileCluster(c: Cluster): CompiledClusterSpec {
  const where = `Cluster ${c.name ?? ''}`;
  if (c.cluster_discovery_type !== 'type' || c.type !== 'EDS') {
    throw new ConfigError(`${where}: only EDS clusters are supported`);
  }
  if ((c.lb_policy ?? 'ROUND_ROBIN') !== 'ROUND_ROBIN') {
    throw new ConfigError(`${where}: lb_policy ${c.lb_policy} is not supported`);
  }
  const tls = compileUpstreamTls(c, where);
  let http2 = false;
  const opts =
    c.typed_extension_protocol_options?.['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'];
  if (opts) {
    const o = unpackAny<HttpProtocolOptions>(opts, PROTOCOL_OPTIONS, `${where} protocol options`);
    if (o.upstream_protocol_options === 'explicit_http_config') {
      http2 = o.explicit_http_config?.protocol_config === 'http2_protocol_options';
    } else if (o.upstream_protocol_options) {
      throw new ConfigError(`${where}: ${o.upstream_protocol_options} is not supported`);
    }
  }
  return {
    name: c.name ?? '',
    edsName: c.eds_cluster_config?.service_name || c.name || '',
    http2,
    connectTimeoutMs: durationMs(c.connect_timeout) ?? 5_000,
    ...(tls ? { tls } : {}),
  };
}

export function compileLoadAssignment(cla: ClusterLoadAssignment): UpstreamEndpoint[] {
  const out: UpstreamEndpoint[] = [];
  for (const locality of cla.endpoints ?? []) {
    for (const lb of locality.lb_endpoints ?? []) {
      const sa = lb.endpoint?.address?.socket_address;
      if (!sa?.address || sa.port_specifier !== 'port_value') {
        throw new ConfigError(
          `ClusterLoadAssignment ${cla.cluster_name}: endpoints need a socket address with a port`,
        );
      }
      const status = lb.health_status ?? 'UNKNOWN';
      if (status === 'UNHEALTHY' || status === 'TIMEOUT') continue;
      out.push({ address: sa.address, port: sa.port_value ?? 0, healthy: status !== 'DRAINING' });
    }
  }
  return out;
}
