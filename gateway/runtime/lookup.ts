// Per-request lookups on a compiled configuration: the filter chain an SNI
// name selects, the virtual host a Host selects, and the first route that
// matches. Everything here reads precompiled structures only.
import type { CompiledChain, CompiledListener } from '../config/listeners.js';
import type { CompiledRoute, CompiledRouteTable, CompiledVirtualHost } from '../config/routes.js';

/** Exact server name first, then the longest `*.suffix`, then the default chain. */
export function selectChain(
  l: CompiledListener,
  serverName: string | undefined,
): CompiledChain | undefined {
  if (!l.tls) return l.chains[0];
  const sni = serverName?.toLowerCase() ?? '';
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

/** Host header → lower-case host without port (IPv6 literals keep their brackets). */
export function hostOf(authority: string | undefined, stripPort: boolean): string {
  if (!authority) return '';
  const a = authority.toLowerCase();
  if (!stripPort) return a;
  if (a.startsWith('[')) {
    const end = a.indexOf(']');
    return end < 0 ? a : a.slice(0, end + 1);
  }
  const colon = a.lastIndexOf(':');
  return colon < 0 ? a : a.slice(0, colon);
}
