// One request through the gateway: the listener's chain (by SNI), checks the
// parser leaves to us (request-checks.ts), the Host (port stripped when the
// chain says so), path preparation (path.ts), the virtual host, the first
// route that matches, then CORS and the route's action: a direct response,
// a redirect, or forwarding. 404 when no virtual host or route matches.
import { randomUUID } from 'node:crypto';
import type { GatewayConfig } from '../config/store.js';
import { answerPreflight, setCorsHeaders } from './cors.js';
import { forward, type DownstreamRequest, type DownstreamResponse } from './forward.js';
import { applyMutation } from './headers.js';
import { DEFAULT_LIMITS } from './limits.js';
import { selectChain, selectRoute, selectVirtualHost, withoutPort } from './lookup.js';
import { preparePath } from './path.js';
import { redirectLocation } from './redirect.js';
import { checkRequest, type RequestLimits } from './request-checks.js';
import type { Upstreams } from './upstream.js';

export interface RequestContext {
  config: () => GatewayConfig;
  upstreams: Upstreams;
  onResponse?: (status: number) => void;
  /**
   * Header count and body size limits (a Content-Length is checked here, a
   * streamed body by forward.ts); DEFAULT_LIMITS when absent.
   */
  limits?: RequestLimits;
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

/**
 * HTTP/1.1 connections on which a request was refused. Node parses and
 * dispatches pipelined requests before the refusal's `connection: close`
 * takes effect; those are dropped unanswered (the connection closes once
 * the refusal is sent), since what follows a refused request cannot be
 * trusted to be framed as the client meant: it may be a smuggled request.
 */
const refusedConnections = new WeakSet<object>();

function refuse(req: DownstreamRequest, res: DownstreamResponse, status: number, body: string) {
  if (req.httpVersionMajor !== 1) return reply(res, status, body);
  refusedConnections.add(req.socket);
  reply(res, status, body, { connection: 'close' });
}

function single(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(',') : v;
}

export function handleRequest(
  ctx: RequestContext,
  listenerName: string,
  req: DownstreamRequest,
  res: DownstreamResponse,
): void {
  if (refusedConnections.has(req.socket)) return;
  const limits = ctx.limits ?? DEFAULT_LIMITS;
  const refusal = checkRequest(req, limits);
  if (refusal) return refuse(req, res, refusal.status, refusal.message);
  const cfg = ctx.config(); // the configuration this request runs on, whatever happens meanwhile
  const listener = cfg.listeners.get(listenerName);
  const tlsSocket = req.socket as { servername?: string | false; encrypted?: boolean };
  const chain = listener && selectChain(listener, tlsSocket.servername);
  const table = chain && cfg.routeTables.get(chain.routeTable);
  if (!chain || !table) return reply(res, 404, 'no route');

  const received = single(req.headers[':authority'] ?? req.headers.host) ?? '';
  const authority = chain.stripPort ? withoutPort(received) : received;
  const host = (table.ignorePort ? withoutPort(authority) : authority).toLowerCase();
  const rawUrl = req.url ?? '/';
  const q = rawUrl.indexOf('?');
  const query = q < 0 ? '' : rawUrl.slice(q);
  const path = preparePath(q < 0 ? rawUrl : rawUrl.slice(0, q), chain);
  if (path === undefined) return refuse(req, res, 400, 'invalid path');
  const vh = selectVirtualHost(table, host);
  if (!vh) return reply(res, 404, 'no route');
  let params: URLSearchParams | undefined;
  const route = selectRoute(vh, {
    path,
    header: (n) => (n === ':method' ? req.method : single(req.headers[n])),
    query: (n) => (params ??= new URLSearchParams(query)).get(n) ?? undefined,
  });
  if (!route) return reply(res, 404, 'no route');

  const clientAddress = req.socket.remoteAddress ?? '';
  const origin = single(req.headers.origin);
  if (route.cors && origin) {
    if (answerPreflight(route.cors, req, res, origin)) return;
    setCorsHeaders(route.cors, res, origin);
  }
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
      location: redirectLocation(a, route, { scheme, authority, path, query }),
    };
    applyMutation(h, route.response, clientAddress);
    return reply(res, a.status, '', h);
  }
  const requestId = single(req.headers['x-request-id']) || randomUUID();
  forward({
    cfg,
    route,
    action: a,
    req,
    res,
    method: req.method ?? 'GET',
    path: (a.pathRewrite ? a.pathRewrite(path) : path) + query,
    authority,
    scheme,
    clientAddress,
    requestId,
    upstreams: ctx.upstreams,
    reply: localReply,
    maxRequestBodyBytes: limits.maxRequestBodyBytes,
  });
}
