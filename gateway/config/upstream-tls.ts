// A cluster's transport_socket → how the gateway originates TLS to its
// endpoints. Supported: envoy.transport_sockets.tls with an UpstreamTlsContext
// whose validation_context trusts an inline CA bundle and/or the system roots
// and names the acceptable certificates with match_typed_subject_alt_names
// (DNS or URI, exact), optionally presenting one client certificate named by
// tls_certificate_sds_secret_configs (an SDS Secret over ADS). Anything else
// is refused (NACK) rather than served with weaker verification than asked for.
import type { UpstreamTlsContext__Output as UpstreamTlsContext } from '../../xds/generated/envoy/extensions/transport_sockets/tls/v3/UpstreamTlsContext.js';
import type { Cluster__Output as Cluster } from '../../xds/generated/envoy/config/cluster/v3/Cluster.js';
import { TYPE_PREFIX } from '../../xds/proto/root.js';
import { ConfigError, unpackAny } from './decode.js';

const UPSTREAM_TLS = `${TYPE_PREFIX}envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext`;

export interface UpstreamTlsSpec {
  /** Sent as SNI. */
  sni: string;
  /** PEM bundle to trust; undefined with only the system roots. */
  ca: string | undefined;
  systemRoots: boolean;
  /** The certificate must carry one of these (at least one is required). */
  subjectAltNames: { type: 'DNS' | 'URI'; value: string }[];
  alpn: string[];
  /** The SDS Secret to present as the client certificate. */
  clientCertificate?: string;
}

export function compileUpstreamTls(c: Cluster, where: string): UpstreamTlsSpec | undefined {
  const ts = c.transport_socket;
  if (!ts) return undefined;
  if (ts.name !== 'envoy.transport_sockets.tls') {
    throw new ConfigError(`${where}: transport socket ${ts.name ?? ''} is not supported`);
  }
  const ctx = unpackAny<UpstreamTlsContext>(ts.typed_config, UPSTREAM_TLS, `${where} tls`);
  const common = ctx.common_tls_context;
  if ((common?.tls_certificates ?? []).length > 0) {
    throw new ConfigError(`${where}: inline client certificates are not supported; use SDS`);
  }
  const sds = common?.tls_certificate_sds_secret_configs ?? [];
  if (sds.length > 1) {
    throw new ConfigError(`${where}: at most one client certificate is supported`);
  }
  const clientCertificate = sds[0]?.name;
  if (sds.length === 1 && !clientCertificate) {
    throw new ConfigError(`${where}: a client certificate needs the SDS secret's name`);
  }
  if (common?.validation_context_type !== 'validation_context' || !common.validation_context) {
    throw new ConfigError(`${where}: upstream TLS needs an inline validation_context`);
  }
  const vc = common.validation_context;
  let ca: string | undefined;
  if (vc.trusted_ca) {
    if (vc.trusted_ca.specifier !== 'inline_string' || !vc.trusted_ca.inline_string)
      throw new ConfigError(`${where}: validation_context.trusted_ca must be an inline string`);
    ca = vc.trusted_ca.inline_string;
  }
  const systemRoots = vc.system_root_certs !== undefined && vc.system_root_certs !== null;
  if (ca === undefined && !systemRoots) {
    throw new ConfigError(`${where}: upstream TLS needs trusted_ca or system_root_certs`);
  }
  const subjectAltNames = (vc.match_typed_subject_alt_names ?? []).map((m) => {
    const type = m.san_type;
    if ((type !== 'DNS' && type !== 'URI') || m.matcher?.match_pattern !== 'exact') {
      throw new ConfigError(
        `${where}: only exact DNS and URI subject alt name matchers are supported`,
      );
    }
    return { type, value: m.matcher.exact ?? '' } as const;
  });
  if (subjectAltNames.length === 0) {
    throw new ConfigError(`${where}: upstream TLS needs match_typed_subject_alt_names`);
  }
  return {
    sni: ctx.sni ?? '',
    ca,
    systemRoots,
    subjectAltNames,
    alpn: common.alpn_protocols ?? [],
    ...(clientCertificate ? { clientCertificate } : {}),
  };
}
