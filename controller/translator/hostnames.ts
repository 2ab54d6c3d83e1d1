// Hostname arithmetic for listeners and routes. A hostname is an exact name
// (`foo.example.com`), a wildcard (`*.example.com`, matching one or more labels
// in front of the suffix but not `example.com` itself), or `*` for any host.
import { byString, sortInPlace } from './sort.js';

export const ANY_HOST = '*';

export function isWildcard(h: string): boolean {
  return h.startsWith('*.');
}

/** True when every host `inner` matches is also matched by `outer`. */
export function covers(outer: string, inner: string): boolean {
  if (outer === ANY_HOST) return true;
  if (inner === ANY_HOST) return false;
  if (!isWildcard(outer)) return outer === inner;
  const suffix = outer.slice(1); // ".example.com"
  if (isWildcard(inner)) return inner.slice(1).endsWith(suffix);
  return inner.endsWith(suffix) && inner.length > suffix.length;
}

/**
 * The hosts matched by both `a` and `b`, as one hostname, or undefined when
 * they share none. Two hostnames always intersect in one of themselves.
 */
export function intersect(a: string, b: string): string | undefined {
  if (covers(a, b)) return b;
  if (covers(b, a)) return a;
  return undefined;
}

/** A hostname a route serves on a listener, and the route hostname it came from. */
export interface RouteHost {
  /** The intersection of the route's hostname with the listener's: where it is served. */
  host: string;
  /** The route's own hostname that matched (`*` when the route has none): its precedence. */
  routeHost: string;
}

/**
 * The hostnames a route serves on a listener: the intersections of the
 * route's hostnames with the listener's hostname (`*` when both are unset),
 * each with the most specific route hostname producing it. Empty means the
 * route has hostnames and none intersects.
 */
export function routeHostsOnListener(
  listenerHostname: string | undefined,
  routeHostnames: readonly string[],
): RouteHost[] {
  const listenerHost = listenerHostname ?? ANY_HOST;
  if (routeHostnames.length === 0) return [{ host: listenerHost, routeHost: ANY_HOST }];
  const out = new Map<string, string>();
  for (const raw of routeHostnames) {
    const h = raw.toLowerCase();
    const i = intersect(listenerHost, h);
    if (i === undefined) continue;
    const prev = out.get(i);
    if (prev === undefined || moreSpecific(h, prev)) out.set(i, h);
  }
  return sortInPlace([...out.keys()], byString).map((host) => ({
    host,
    routeHost: out.get(host)!,
  }));
}

/** Route hostname precedence: more non-wildcard characters, then more characters. */
export function moreSpecific(a: string, b: string): boolean {
  return (
    nonWildcardLength(a) > nonWildcardLength(b) ||
    (nonWildcardLength(a) === nonWildcardLength(b) && hostLength(a) > hostLength(b))
  );
}

/**
 * Listener precedence for hostnames: exact before wildcard before none; among
 * wildcards, more labels to the right of `*` first. Larger is more specific.
 */
export function listenerSpecificity(hostname: string | undefined): number {
  if (hostname === undefined || hostname === ANY_HOST) return 0;
  const labels = hostname.split('.').length;
  return isWildcard(hostname) ? 1 + labels : 1_000 + labels;
}

/** Characters of `h` that are not part of a wildcard, for route precedence. */
export function nonWildcardLength(h: string): number {
  return h === ANY_HOST || isWildcard(h) ? 0 : h.length;
}

/** Characters of `h` for route precedence (`*` counts as none). */
export function hostLength(h: string): number {
  return h === ANY_HOST ? 0 : h.length;
}
