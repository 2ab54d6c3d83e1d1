// Shared pieces of Envoy resources: type URLs of the extensions gatefleet
// configures, ADS config sources, durations and header mutations.
import type { HeaderModifier } from '../../controller/ir/types.js';
import { TYPE_PREFIX } from '../proto/root.js';

export const Ext = {
  HttpConnectionManager: `${TYPE_PREFIX}envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager`,
  Router: `${TYPE_PREFIX}envoy.extensions.filters.http.router.v3.Router`,
  Cors: `${TYPE_PREFIX}envoy.extensions.filters.http.cors.v3.Cors`,
  CorsPolicy: `${TYPE_PREFIX}envoy.extensions.filters.http.cors.v3.CorsPolicy`,
  TlsInspector: `${TYPE_PREFIX}envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector`,
  DownstreamTlsContext: `${TYPE_PREFIX}envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext`,
  UpstreamTlsContext: `${TYPE_PREFIX}envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext`,
  HttpProtocolOptions: `${TYPE_PREFIX}envoy.extensions.upstreams.http.v3.HttpProtocolOptions`,
} as const;

/** Well-known extension names Envoy looks filters up by. */
export const FilterName = {
  HttpConnectionManager: 'envoy.filters.network.http_connection_manager',
  Router: 'envoy.filters.http.router',
  Cors: 'envoy.filters.http.cors',
  TlsInspector: 'envoy.filters.listener.tls_inspector',
  Tls: 'envoy.transport_sockets.tls',
  HttpProtocolOptions: 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
} as const;

/**
 * Resources that refer to other resources fetch them over the same ADS
 * stream. `initial_fetch_timeout: 0` makes Envoy wait for them rather than
 * activate a listener without its routes or certificates.
 */
export function adsConfigSource(): Record<string, unknown> {
  return { ads: {}, resource_api_version: 'V3', initial_fetch_timeout: duration(0) };
}

/** A google.protobuf.Duration from milliseconds. */
export function duration(ms: number): { seconds: number; nanos: number } {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: (ms - seconds * 1000) * 1_000_000 };
}

/** Header mutations of a route or weighted cluster: `set` overwrites, `add` appends. */
export function headerMutation(
  mod: HeaderModifier | undefined,
  toAdd: string,
  toRemove: string,
): Record<string, unknown> {
  if (!mod) return {};
  const out: Record<string, unknown> = {};
  // Envoy reads %…% in header values as formatters; a literal % is %%.
  const literal = (v: string) => v.replace(/%/g, '%%');
  const add = [
    ...mod.set.map((h) => ({
      header: { key: h.name, value: literal(h.value) },
      append_action: 'OVERWRITE_IF_EXISTS_OR_ADD',
    })),
    ...mod.add.map((h) => ({
      header: { key: h.name, value: literal(h.value) },
      append_action: 'APPEND_IF_EXISTS_OR_ADD',
    })),
  ];
  if (add.length > 0) out[toAdd] = add;
  if (mod.remove.length > 0) out[toRemove] = mod.remove;
  return out;
}

/** Escapes a literal for use inside an RE2 pattern. */
export function re2Escape(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
}

/** A google.protobuf wrapper (BoolValue, UInt32Value, ...). */
export function wrap<T>(value: T): { value: T } {
  return { value };
}
