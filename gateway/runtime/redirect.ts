// The Location of a route's redirect (Envoy's RedirectAction): each part of
// the request URL is kept unless the action replaces it. The path is the
// normalized one the route matched; the query is kept unless strip_query is
// set or a path_redirect carries its own. The port is left out when it is
// the default of the Location's scheme (Gateway API: no :80 with http, no
// :443 with https; Envoy would write a port_redirect out even then).
import type { CompiledRoute, RedirectActionC } from '../config/routes.js';

const DEFAULT_PORTS: Record<string, number> = { http: 80, https: 443 };

export interface RequestUrl {
  scheme: string;
  /** Host as received, without its port when the chain strips it. */
  authority: string;
  /** Normalized path, no query. */
  path: string;
  /** The query with its leading "?", or "". */
  query: string;
}

function splitAuthority(authority: string): { host: string; port?: number } {
  const close = authority.charCodeAt(0) === 91 /* [ */ ? authority.indexOf(']') : -1;
  const colon = authority.indexOf(':', close + 1);
  if (colon < 0) return { host: authority };
  const port = Number(authority.slice(colon + 1));
  return Number.isInteger(port) && port > 0
    ? { host: authority.slice(0, colon), port }
    : { host: authority.slice(0, colon) };
}

export function redirectLocation(
  a: RedirectActionC,
  route: CompiledRoute,
  url: RequestUrl,
): string {
  const scheme = a.scheme ?? url.scheme;
  const original = splitAuthority(url.authority);
  const host = a.host ?? original.host;
  // A new host without a port drops the request's port, as Envoy does.
  const port = a.port ?? (a.host === undefined ? original.port : undefined);
  let path = url.path;
  if (a.path !== undefined) path = a.path;
  else if (a.pathRewrite) path = a.pathRewrite(url.path);
  else if (a.prefixRewrite !== undefined && route.prefix !== undefined)
    path = a.prefixRewrite + url.path.slice(route.prefix.length);
  const portPart = port === undefined || port === DEFAULT_PORTS[scheme] ? '' : `:${port}`;
  const query = a.stripQuery || (a.path !== undefined && a.path.includes('?')) ? '' : url.query;
  return `${scheme}://${host}${portPart}${path}${query}`;
}
