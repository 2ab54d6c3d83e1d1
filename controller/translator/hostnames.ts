// Hostname arithmetic for listeners and routes. A hostname is an exact name
// (`foo.example.com`), a wildcard (`*.example.com`, matching one or more labels
// in front of the suffix but not `example.com` itself), or `*` for any host.

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

/**
 * The hostnames a route serves on a listener: the intersections of the
 * route's hostnames with the listener's hostname (`*` when both are unset).
 * Empty means the route has hostnames and none intersects.
 */
export function routeHostsOnListener(
  listenerHostname: string | undefined,
  routeHostnames: readonly string[],
): string[] {
  const listenerHost = listenerHostname ?? ANY_HOST;
  if (routeHostnames.length === 0) return [listenerHost];
  const out = new Set<string>();
  for (const h of routeHostnames) {
    const i = intersect(listenerHost, h.toLowerCase());
    if (i !== undefined) out.add(i);
  }
  return [...out].sort();
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
