// Per-request lookups on a compiled configuration: the filter chain an SNI
// name selects, the virtual host a Host selects, and the first route that
// matches. Everything here reads precompiled structures only.
import type { CompiledChain, CompiledListener } from '../config/listeners.js';
import type { CompiledRoute, CompiledRouteTable, CompiledVirtualHost } from '../config/routes.js';

/**
 * Exact server name first, then the longest `*.suffix`, then the default
 * chain. `serverName` is what the TLS socket reports: false or undefined
 * without SNI.
 */
export function selectChain(
  l: CompiledListener,
  serverName: string | false | undefined,
): CompiledChain | undefined {
  if (!l.tls) return l.chains[0];
  const sni = typeof serverName === 'string' ? serverName.toLowerCase() : '';
  let fallback: CompiledChain | undefined;
  let wildcard: CompiledChain | undefined;
  let wildcardLength = -1;
  for (const c of l.chains) {
    if (c.serverNames.length === 0) fallback ??= c;
    for (const n of c.serverNames) {
      if (n === sni) return c;
      const suffix = n.startsWith('*.') ? n.slice(1) : undefined;
      if (
        suffix &&
        sni.length > suffix.length &&
        sni.endsWith(suffix) &&
        n.length > wildcardLength
      ) {
        wildcard = c;
        wildcardLength = n.length;
      }
    }
  }
  return wildcard ?? fallback;
}

/** Envoy's domain order: exact, then `*.suffix` (longest), then `prefix*` (longest), then `*`. */
export function selectVirtualHost(
  t: CompiledRouteTable,
  host: string,
): CompiledVirtualHost | undefined {
  const exact = t.exact.get(host);
  if (exact) return exact;
  for (const s of t.suffixes)
    if (host.length > s.suffix.length && host.endsWith(s.suffix)) return s.vhost;
  for (const p of t.prefixes)
    if (host.length > p.prefix.length && host.startsWith(p.prefix)) return p.vhost;
  return t.any;
}

export interface RequestView {
  path: string;
  header: (name: string) => string | undefined;
  query: (name: string) => string | undefined;
}

export function selectRoute(vh: CompiledVirtualHost, r: RequestView): CompiledRoute | undefined {
  for (const route of vh.routes) {
    if (!route.path(r.path)) continue;
    let ok = true;
    for (const h of route.headers) {
      if (!h.test(r.header(h.name))) {
        ok = false;
        break;
      }
    }
    if (!ok) continue;
    for (const q of route.query) {
      if (!q.test(r.query(q.name))) {
        ok = false;
        break;
      }
    }
    if (ok) return route;
  }
  return undefined;
}

/**
 * The authority without its port (IPv6 literals keep their brackets), as
 * Envoy's strip_any_host_port leaves the Host (for matching and forwarding)
 * and ignore_port_in_host_matching matches it (forwarding it unchanged).
 */
export function withoutPort(authority: string): string {
  if (authority.charCodeAt(0) === 91 /* [ */) {
    const end = authority.indexOf(']');
    return end < 0 ? authority : authority.slice(0, end + 1);
  }
  const colon = authority.lastIndexOf(':');
  return colon < 0 ? authority : authority.slice(0, colon);
}
