// Listener → what the gateway opens: a port on one or more addresses, and per
// filter chain the route table it uses and, for TLS, the certificates (SDS
// secret names) selected by SNI. Only the HTTP connection manager with RDS,
// the CORS and router filters, and the TLS inspector are supported.
import type { Listener__Output as Listener } from '../../xds/generated/envoy/config/listener/v3/Listener.js';
import type { FilterChain__Output as FilterChain } from '../../xds/generated/envoy/config/listener/v3/FilterChain.js';
import type { HttpConnectionManager__Output as HttpConnectionManager } from '../../xds/generated/envoy/extensions/filters/network/http_connection_manager/v3/HttpConnectionManager.js';
import type { DownstreamTlsContext__Output as DownstreamTlsContext } from '../../xds/generated/envoy/extensions/transport_sockets/tls/v3/DownstreamTlsContext.js';
import { TYPE_PREFIX } from '../../xds/proto/root.js';
import { ConfigError, unpackAny } from './decode.js';

const HCM = `${TYPE_PREFIX}envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager`;
const TLS_CONTEXT = `${TYPE_PREFIX}envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext`;
const SUPPORTED_HTTP_FILTERS = new Set(['envoy.filters.http.router', 'envoy.filters.http.cors']);

export interface CompiledChain {
  name: string;
  /** SNI names that select this chain (exact or `*.suffix`); empty = default chain. */
  serverNames: string[];
  routeTable: string;
  /** SDS secret names (TLS chains only). */
  certificates: string[];
  /**
   * Client certificates (TLS chains, validation_context): the PEM CAs they
   * are verified with; absent, none is requested.
   */
  clientCa?: string;
  /** require_client_certificate: a client without a certificate is refused. */
  requireClientCert?: boolean;
  /** A presented certificate must chain to clientCa (not ACCEPT_UNTRUSTED). */
  verifyClientCert?: boolean;
  alpn: string[];
  /** HCM settings the request path honours (see runtime/path.ts). */
  normalizePath: boolean;
  mergeSlashes: boolean;
  /** path_with_escaped_slashes_action: %2F and %5C kept, refused (400), or decoded. */
  escapedSlashes: 'keep' | 'reject' | 'unescape';
  /** strip_any_host_port: the Host's port is dropped before routing and forwarding. */
  stripPort: boolean;
}

const ESCAPED_SLASHES: Record<string, CompiledChain['escapedSlashes']> = {
  IMPLEMENTATION_SPECIFIC_DEFAULT: 'keep', // Envoy's default is KEEP_UNCHANGED
  KEEP_UNCHANGED: 'keep',
  REJECT_REQUEST: 'reject',
  UNESCAPE_AND_FORWARD: 'unescape',
};

export interface CompiledListener {
  name: string;
  addresses: string[];
  port: number;
  tls: boolean;
  chains: CompiledChain[];
}

function httpConnectionManager(fc: FilterChain, where: string): HttpConnectionManager {
  const filters = fc.filters ?? [];
  if (
    filters.length !== 1 ||
    filters[0]!.name !== 'envoy.filters.network.http_connection_manager'
  ) {
    throw new ConfigError(
      `${where}: exactly one envoy.filters.network.http_connection_manager filter is supported`,
    );
  }
  const hcm = unpackAny<HttpConnectionManager>(
    filters[0]!.typed_config,
    HCM,
    `${where} http_connection_manager`,
  );
  if (hcm.route_specifier !== 'rds' || !hcm.rds?.route_config_name) {
    throw new ConfigError(`${where}: the HTTP connection manager must take its routes from RDS`);
  }
  for (const f of hcm.http_filters ?? []) {
    if (!SUPPORTED_HTTP_FILTERS.has(f.name ?? '')) {
      throw new ConfigError(`${where}: HTTP filter ${f.name} is not supported`);
    }
  }
  return hcm;
}

function escapedSlashes(
  hcm: HttpConnectionManager,
  where: string,
): CompiledChain['escapedSlashes'] {
  const action = hcm.path_with_escaped_slashes_action ?? 'IMPLEMENTATION_SPECIFIC_DEFAULT';
  const out = ESCAPED_SLASHES[action];
  if (!out)
    throw new ConfigError(`${where}: path_with_escaped_slashes_action ${action} is not supported`);
  return out;
}

function compileChain(fc: FilterChain, tls: boolean, where: string): CompiledChain {
  const w = `${where} filter chain ${fc.name ?? ''}`.trimEnd();
  const hcm = httpConnectionManager(fc, w);
  const chain: CompiledChain = {
    name: fc.name ?? '',
    serverNames: (fc.filter_chain_match?.server_names ?? []).map((s) => s.toLowerCase()),
    routeTable: hcm.rds!.route_config_name!,
    certificates: [],
    alpn: [],
    normalizePath: hcm.normalize_path?.value === true,
    mergeSlashes: hcm.merge_slashes === true,
    escapedSlashes: escapedSlashes(hcm, w),
    stripPort: hcm.strip_port_mode === 'strip_any_host_port' && hcm.strip_any_host_port === true,
  };
  if (tls) {
    if (fc.transport_socket?.name !== 'envoy.transport_sockets.tls') {
      throw new ConfigError(
        `${w}: a TLS listener needs the envoy.transport_sockets.tls transport socket`,
      );
    }
    const ctx = unpackAny<DownstreamTlsContext>(
      fc.transport_socket.typed_config,
      TLS_CONTEXT,
      `${w} tls`,
    );
    const common = ctx.common_tls_context;
    if ((common?.tls_certificates ?? []).length > 0) {
      throw new ConfigError(`${w}: inline tls_certificates are not supported; use SDS`);
    }
    chain.certificates = (common?.tls_certificate_sds_secret_configs ?? []).map(
      (s) => s.name ?? '',
    );
    if (chain.certificates.length === 0)
      throw new ConfigError(`${w}: a TLS chain needs a certificate`);
    chain.alpn = common?.alpn_protocols ?? [];
    clientValidation(chain, ctx, w);
  } else if (fc.transport_socket) {
    throw new ConfigError(
      `${w}: transport socket ${fc.transport_socket.name} needs a TLS listener`,
    );
  }
  return chain;
}

/** validation_context (inline trusted_ca only) and require_client_certificate. */
function clientValidation(chain: CompiledChain, ctx: DownstreamTlsContext, where: string): void {
  const common = ctx.common_tls_context;
  const type = common?.validation_context_type;
  const require = ctx.require_client_certificate?.value === true;
  if (type === undefined) {
    if (require)
      throw new ConfigError(`${where}: require_client_certificate needs a validation_context`);
    return;
  }
  if (type !== 'validation_context')
    throw new ConfigError(`${where}: ${type} is not supported; use validation_context`);
  const vc = common!.validation_context!;
  const ca = vc.trusted_ca;
  if (ca?.specifier !== 'inline_string' || !ca.inline_string)
    throw new ConfigError(`${where}: validation_context.trusted_ca must be an inline string`);
  chain.clientCa = ca.inline_string;
  chain.requireClientCert = require;
  chain.verifyClientCert = vc.trust_chain_verification !== 'ACCEPT_UNTRUSTED';
}

export function compileListener(l: Listener): CompiledListener {
  const where = `Listener ${l.name ?? ''}`;
  const sa = l.address?.socket_address;
  if (!sa || sa.port_specifier !== 'port_value') {
    throw new ConfigError(`${where}: a socket address with port_value is required`);
  }
  if ((sa.protocol ?? 'TCP') !== 'TCP')
    throw new ConfigError(`${where}: only TCP listeners are supported`);
  const addresses = [sa.address ?? '0.0.0.0'];
  for (const a of l.additional_addresses ?? [])
    addresses.push(a.address?.socket_address?.address ?? '0.0.0.0');
  const tls = (l.filter_chains ?? []).some((fc) => fc.transport_socket);
  const chains = (l.filter_chains ?? []).map((fc) => compileChain(fc, tls, where));
  if (chains.length === 0) throw new ConfigError(`${where}: at least one filter chain is required`);
  if (!tls && chains.length !== 1)
    throw new ConfigError(`${where}: a plain HTTP listener has exactly one filter chain`);
  if (
    tls &&
    !(l.listener_filters ?? []).some((f) => f.name === 'envoy.filters.listener.tls_inspector')
  ) {
    throw new ConfigError(
      `${where}: TLS filter chains selected by SNI need the tls_inspector listener filter`,
    );
  }
  const defaults = chains.filter((c) => c.serverNames.length === 0);
  if (defaults.length > 1)
    throw new ConfigError(`${where}: more than one filter chain matches every server name`);
  return { name: l.name ?? '', addresses, port: sa.port_value ?? 0, tls, chains };
}
