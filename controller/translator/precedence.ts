// Route precedence within a virtual host, across all rules of all routes
// attached to the listener (HTTPRouteRule.Matches): the specificity of the
// route's own matching hostname (HTTPRouteSpec.Hostnames: non-wildcard
// characters, then characters; a route without hostnames has none), then an Exact path, a
// RegularExpression path (gatefleet's choice: regexes are written for their
// specificity), then the longest PathPrefix; then a method match, the most
// header matches, the most query parameter matches; then the oldest route,
// then {namespace}/{name}, then rule and match order.
import type { RouteMatch } from '../ir/types.js';
import { hostLength, nonWildcardLength } from './hostnames.js';

export interface RankedEntry {
  /** The route's own hostname that matched; `*` when the route has none. */
  routeHost: string;
  match: RouteMatch;
  created: string;
  routeKey: string;
  rule: number;
  matchIndex: number;
}

const PATH_RANK = { Exact: 0, RegularExpression: 1, PathPrefix: 2 } as const;

export function comparePrecedence(a: RankedEntry, b: RankedEntry): number {
  return (
    nonWildcardLength(b.routeHost) - nonWildcardLength(a.routeHost) ||
    hostLength(b.routeHost) - hostLength(a.routeHost) ||
    PATH_RANK[a.match.path.type] - PATH_RANK[b.match.path.type] ||
    b.match.path.value.length - a.match.path.value.length ||
    Number(b.match.method !== undefined) - Number(a.match.method !== undefined) ||
    b.match.headers.length - a.match.headers.length ||
    b.match.queryParams.length - a.match.queryParams.length ||
    compareTimestamps(a.created, b.created) ||
    (a.routeKey < b.routeKey ? -1 : a.routeKey > b.routeKey ? 1 : 0) ||
    a.rule - b.rule ||
    a.matchIndex - b.matchIndex
  );
}

/** Older first; a missing timestamp sorts after every real one. */
function compareTimestamps(a: string, b: string): number {
  if (a === b) return 0;
  if (a === '') return 1;
  if (b === '') return -1;
  const ta = Date.parse(a);
  const tb = Date.parse(b);
  if (Number.isNaN(ta) || Number.isNaN(tb)) return a < b ? -1 : 1;
  return ta - tb;
}
