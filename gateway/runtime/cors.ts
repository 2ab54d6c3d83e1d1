// CORS for routes that carry a policy, as Envoy's CORS filter does: a
// preflight (OPTIONS with Origin and Access-Control-Request-Method) from an
// allowed origin is answered by the gateway (with the exposed headers too, as
// the Gateway API conformance suite expects); any other request from an
// allowed origin gets Access-Control-Allow-Origin (and credentials and
// exposed headers) on its response; an origin not allowed gets no CORS
// header at all.
import type { CompiledCors, CorsList } from '../config/cors.js';
import type { DownstreamRequest, DownstreamResponse } from './forward.js';

function single(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(',') : v;
}

export function originAllowed(c: CompiledCors, origin: string): boolean {
  for (const m of c.allowOrigin) if (m(origin)) return true;
  return false;
}

/**
 * The value for a configured list: as configured, or, when it holds `*` and
 * credentials are allowed, what the preflight asked for (absent: none).
 */
function listValue(
  c: CompiledCors,
  l: CorsList,
  requested: string | undefined,
): string | undefined {
  if (!l.wildcard) return l.value;
  return c.allowCredentials ? requested : '*';
}

/**
 * Answers a preflight request; returns true when it did (the request is done).
 * A preflight from an origin not allowed is forwarded like any request
 * unless the policy says not to (then: an empty 200 without CORS headers).
 */
export function answerPreflight(
  c: CompiledCors,
  req: DownstreamRequest,
  res: DownstreamResponse,
  origin: string,
): boolean {
  const method = single(req.headers['access-control-request-method']);
  if (req.method !== 'OPTIONS' || !method) return false;
  if (!originAllowed(c, origin)) {
    if (c.forwardNotMatchingPreflights) return false;
    res.writeHead(200, { 'content-length': 0 });
    res.end();
    return true;
  }
  const h: Record<string, string> = { 'access-control-allow-origin': origin };
  if (c.allowCredentials) h['access-control-allow-credentials'] = 'true';
  const methods = c.allowMethods && listValue(c, c.allowMethods, method);
  if (methods) h['access-control-allow-methods'] = methods;
  const headers =
    c.allowHeaders &&
    listValue(c, c.allowHeaders, single(req.headers['access-control-request-headers']));
  if (headers) h['access-control-allow-headers'] = headers;
  if (c.exposeHeaders) h['access-control-expose-headers'] = c.exposeHeaders;
  if (c.maxAge) h['access-control-max-age'] = c.maxAge;
  h['content-length'] = '0';
  res.writeHead(200, h);
  res.end();
  return true;
}

/** Sets the response headers of a (non-preflight) request from an allowed origin. */
export function setCorsHeaders(c: CompiledCors, res: DownstreamResponse, origin: string): void {
  if (!originAllowed(c, origin)) return;
  res.setHeader('access-control-allow-origin', origin);
  if (c.allowCredentials) res.setHeader('access-control-allow-credentials', 'true');
  if (c.exposeHeaders) res.setHeader('access-control-expose-headers', c.exposeHeaders);
}
