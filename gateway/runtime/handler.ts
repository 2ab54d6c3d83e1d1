// One request through the gateway: the listener's chain (by SNI), the
// virtual host (by Host, port ignored), path normalization, the first route
// that matches, then CORS and the route's action. 404 when nothing matches.
import { randomUUID } from 'node:crypto';
import type { CompiledCors, CompiledRoute, RedirectActionC } from '../config/routes.js';
import type { GatewayConfig } from '../config/store.js';
import { forward, type DownstreamRequest, type DownstreamResponse } from './forward.js';
import { applyMutation } from './headers.js';
import { hostOf, selectChain, selectRoute, selectVirtualHost } from './lookup.js';
import { normalizePath } from './path.js';
import type { Upstreams } from './upstream.js';

export interface RequestContext {
  config: () => GatewayConfig;
  upstreams: Upstreams;
  onResponse?: (status: number) => void;
}

function reply(
  res: DownstreamResponse,
  status: number,
  body: string,
  extra?: Record<string, string | string[]>,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, {
    'content-type': 'text/plain',
    'content-length': Buffer.byteLength(body),
    ...extra,
  });
  res.end(body);
}

function firstHeader(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(',') : v;
}

export function handleRequest(
  ctx: RequestContext,
  listenerName: string,
  req: DownstreamRequest,
  res: DownstreamResponse,
): void {
  const cfg = ctx.config(); // the configuration this request runs on, whatever happens meanwhile
  const listener = cfg.listeners.get(listenerName);
  const tlsSocket = req.socket as { servername?: string; encrypted?: boolean };
  const chain = listener && selectChain(listener, tlsSocket.servername);
  const table = chain && cfg.routeTables.get(chain.routeTable);
  if (!chain || !table) return reply(res, 404, 'no route');
  const authority =
    firstHeader(req.headers.host ?? (req.headers[':authority'] as string | undefined)) ?? '';
  const host = hostOf(authority, chain.stripPort);
  const rawUrl = req.url ?? '/';
  const q = rawUrl.indexOf('?');
  const rawPath = q < 0 ? rawUrl : rawUrl.slice(0, q);
  const query = q < 0 ? '' : rawUrl.slice(q);
  const path = chain.normalizePath ? normalizePath(rawPath) : rawPath;
  if (path === undefined) return reply(res, 400, 'invalid path');
  const vh = selectVirtualHost(table, host);
  if (!vh) return reply(res, 404, 'no route');
  let params: URLSearchParams | undefined;
  const route = selectRoute(vh, {
    path,
    header: (n) => (n === ':method' ? req.method : firstHeader(req.headers[n])),
    query: (n) => (params ??= new URLSearchParams(query)).get(n) ?? undefined,
  });
  if (!route) return reply(res, 404, 'no route');

  const clientAddress = req.socket.remoteAddress ?? '';
  const origin = firstHeader(req.headers.origin);
  if (route.cors && origin && corsPreflight(route.cors, req, res, origin)) return;
  if (route.cors && origin) applyCorsHeaders(route.cors, res, origin);
  // Local replies carry the route's response headers too.
  const localReply = (status: number, body: string) => {
    const h: Record<string, string | string[]> = {};
    applyMutation(h, route.response, clientAddress);
    reply(res, status, body, h);
  };

  const a = route.action;
  if (a.kind === 'direct') return localReply(a.status, a.body ?? '');
  const scheme = tlsSocket.encrypted ? 'https' : 'http';
  if (a.kind === 'redirect') {
    const h: Record<string, string | string[]> = {
      location: redirectLocation(a, route, scheme, authority, host, path, query),
    };
    applyMutation(h, route.response, clientAddress);
    return reply(res, a.status, '', h);
  }
  let upstreamPath = path;
  if (a.pathRewrite) upstreamPath = a.pathRewrite(path);
  const requestId = firstHeader(req.headers['x-request-id']) || randomUUID();
  forward({
    cfg,
    route,
    action: a,
    req,
    res,
    method: req.method ?? 'GET',
    path: upstreamPath + query,
    authority,
    scheme,
    clientAddress,
    requestId,
    upstreams: ctx.upstreams,
    reply: localReply,
  });
}

const DEFAULT_PORTS: Record<string, number> = { http: 80, https: 443 };

/** The Location of a redirect; the port is left out when it is the scheme's default. */
export function redirectLocation(
  a: RedirectActionC,
  route: CompiledRoute,
  scheme: string,
  authority: string,
  host: string,
  path: string,
  query: string,
): string {
  const toScheme = a.scheme ?? scheme;
  const toHost = a.host ?? host;
  const authorityPort = authority.startsWith('[')
    ? authority.split(']:')[1]
    : authority.split(':')[1];
  const port = a.port ?? (authorityPort ? Number(authorityPort) : DEFAULT_PORTS[scheme]);
  let toPath = path;
  if (a.path !== undefined) toPath = a.path;
  else if (a.pathRewrite) toPath = a.pathRewrite(path);
  else if (a.prefixRewrite !== undefined && route.prefix !== undefined)
    toPath = a.prefixRewrite + path.slice(route.prefix.length);
  const portPart = port === undefined || port === DEFAULT_PORTS[toScheme] ? '' : `:${port}`;
  const q = a.stripQuery || (a.path !== undefined && a.path.includes('?')) ? '' : query;
  return `${toScheme}://${toHost}${portPart}${toPath}${q}`;
}

function originAllowed(c: CompiledCors, origin: string): boolean {
  return c.allowOrigin.some((m) => m(origin));
}

function applyCorsHeaders(c: CompiledCors, res: DownstreamResponse, origin: string): void {
  if (!originAllowed(c, origin)) return;
  res.setHeader('access-control-allow-origin', origin);
  if (c.allowCredentials) res.setHeader('access-control-allow-credentials', 'true');
  if (c.exposeHeaders) res.setHeader('access-control-expose-headers', c.exposeHeaders);
}

/** Answers a CORS preflight (OPTIONS with Access-Control-Request-Method); returns true when it did. */
function corsPreflight(
  c: CompiledCors,
  req: DownstreamRequest,
  res: DownstreamResponse,
  origin: string,
): boolean {
  if (req.method !== 'OPTIONS' || !req.headers['access-control-request-method']) return false;
  if (!originAllowed(c, origin)) return false; // not ours to answer: forwarded like any request
  const h: Record<string, string> = { 'access-control-allow-origin': origin };
  if (c.allowMethods) h['access-control-allow-methods'] = c.allowMethods;
  if (c.allowHeaders) h['access-control-allow-headers'] = c.allowHeaders;
  if (c.maxAge) h['access-control-max-age'] = c.maxAge;
  if (c.allowCredentials) h['access-control-allow-credentials'] = 'true';
  res.writeHead(200, h);
  res.end();
  return true;
}
