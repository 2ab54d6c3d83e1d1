// IR listeners → Envoy Listener: one per port, an HTTP connection manager per
// filter chain taking its routes from RDS, and for HTTPS one filter chain per
// Gateway listener chosen by SNI, with its certificates from SDS.
import type {
  FilterChain,
  FleetAddress,
  Listener,
  VirtualHost,
} from '../../controller/ir/types.js';
import { isWildcard } from '../../controller/translator/hostnames.js';
import { adsConfigSource, Ext, FilterName, wrap } from './common.js';

function httpConnectionManager(
  statPrefix: string,
  routeConfigName: string,
): Record<string, unknown> {
  return {
    name: FilterName.HttpConnectionManager,
    typed_config: {
      '@type': Ext.HttpConnectionManager,
      stat_prefix: statPrefix,
      rds: { config_source: adsConfigSource(), route_config_name: routeConfigName },
      http_filters: [
        { name: FilterName.Cors, typed_config: { '@type': Ext.Cors } },
        { name: FilterName.Router, typed_config: { '@type': Ext.Router } },
      ],
      // The client's address is the one the gateway sees: no trusted proxies in front.
      use_remote_address: wrap(true),
      // Dot segments are resolved before matching; encoded slashes are left alone,
      // so /public/../admin and /public/%2e%2e/admin cannot reach another route.
      normalize_path: wrap(true),
      merge_slashes: false,
      path_with_escaped_slashes_action: 'KEEP_UNCHANGED',
      // The Host header's port takes no part in matching (the RouteConfiguration's
      // ignore_port_in_host_matching) and is forwarded as received: no strip_any_host_port.
      // WebSocket upgrades are allowed only on routes to kubernetes.io/ws backends.
      upgrade_configs: [{ upgrade_type: 'websocket', enabled: wrap(false) }],
    },
  };
}

function socketAddress(address: string, port: number): Record<string, unknown> {
  return { socket_address: { address, port_value: port } };
}

function chain(l: Listener, fc: FilterChain): Record<string, unknown> {
  const out: Record<string, unknown> = {
    name: fc.name,
    filters: [httpConnectionManager(l.name, fc.name)],
  };
  if (l.protocol === 'HTTPS') {
    if (fc.serverNames.length > 0) out.filter_chain_match = { server_names: fc.serverNames };
    const v = fc.clientValidation;
    out.transport_socket = {
      name: FilterName.Tls,
      typed_config: {
        '@type': Ext.DownstreamTlsContext,
        common_tls_context: {
          tls_certificate_sds_secret_configs: fc.certificates.map((name) => ({
            name,
            sds_config: adsConfigSource(),
          })),
          alpn_protocols: ['h2', 'http/1.1'],
          // Client certificates: requested and verified against the CAs;
          // AllowInsecureFallback accepts an untrusted one (or none).
          ...(v
            ? {
                validation_context: {
                  trusted_ca: { inline_string: v.caCertificates },
                  ...(v.mode === 'AllowInsecureFallback'
                    ? { trust_chain_verification: 'ACCEPT_UNTRUSTED' }
                    : {}),
                },
              }
            : {}),
        },
        ...(v?.mode === 'AllowValidOnly' ? { require_client_certificate: wrap(true) } : {}),
      },
    };
  }
  return out;
}

/**
 * The fleet binds every listener to each of its addresses (Gateway
 * spec.addresses); with none, or an address requested without a value, to
 * all interfaces.
 */
export function buildListener(
  l: Listener,
  addresses: readonly FleetAddress[],
): Record<string, unknown> {
  const binds = [...new Set(addresses.map((a) => a.value || '0.0.0.0'))];
  const [first = '0.0.0.0', ...rest] = binds.includes('0.0.0.0') ? ['0.0.0.0'] : binds;
  const out: Record<string, unknown> = {
    name: l.name,
    address: socketAddress(first, l.port),
    filter_chains: l.filterChains.map((fc) => chain(l, fc)),
  };
  if (rest.length > 0)
    out.additional_addresses = rest.map((a) => ({ address: socketAddress(a, l.port) }));
  if (l.protocol === 'HTTPS') {
    out.listener_filters = [
      { name: FilterName.TlsInspector, typed_config: { '@type': Ext.TlsInspector } },
    ];
  }
  return out;
}

/**
 * Proxyless gRPC clients (gRPC's own xDS support) resolve `xds:///<host>` by
 * asking for the Listener named `<host>` and expect an API listener. Every
 * exact hostname served on an HTTP port gets one, pointing at that port's
 * route table; when a hostname is served on several ports the lowest wins.
 * They are served only to clients that name them, never to gateways, which
 * subscribe to all listeners.
 */
export function buildApiListeners(listeners: readonly Listener[]): {
  name: string;
  resource: Record<string, unknown>;
  namedOnly: true;
}[] {
  const byHost = new Map<string, { vh: VirtualHost; routeConfigName: string }>();
  for (const l of [...listeners].sort((a, b) => a.port - b.port)) {
    if (l.protocol !== 'HTTP') continue;
    for (const fc of l.filterChains) {
      for (const vh of fc.virtualHosts) {
        if (vh.domain === '*' || isWildcard(vh.domain) || byHost.has(vh.domain)) continue;
        byHost.set(vh.domain, { vh, routeConfigName: fc.name });
      }
    }
  }
  return [...byHost].map(([host, { vh, routeConfigName }]) => ({
    name: host,
    namedOnly: true as const,
    resource: apiListener(vh, host, routeConfigName),
  }));
}

/** Built once per IR virtual host and route table (the snapshot encoder then finds it by identity). */
const builtApiListeners = new WeakMap<
  VirtualHost,
  { routeConfigName: string; resource: Record<string, unknown> }
>();

function apiListener(
  vh: VirtualHost,
  host: string,
  routeConfigName: string,
): Record<string, unknown> {
  const built = builtApiListeners.get(vh);
  if (built?.routeConfigName === routeConfigName) return built.resource;
  const resource = {
    name: host,
    api_listener: {
      api_listener: {
        '@type': Ext.HttpConnectionManager,
        stat_prefix: host,
        rds: { config_source: adsConfigSource(), route_config_name: routeConfigName },
        http_filters: [{ name: FilterName.Router, typed_config: { '@type': Ext.Router } }],
      },
    },
  };
  builtApiListeners.set(vh, { routeConfigName, resource });
  return resource;
}
