// IR filter chains → Envoy RouteConfiguration: virtual hosts by hostname,
// routes in the IR's precedence order, each with its matches, header
// mutations, CORS policy and action (forward, redirect or direct response).
import type {
  CorsPolicy,
  DirectResponseAction,
  FilterChain,
  ForwardAction,
  PathRewrite,
  RedirectAction,
  Route,
  RouteMatch,
  StringMatch,
  VirtualHost,
} from '../../controller/ir/types.js';
import { duration, Ext, FilterName, headerMutation, re2Escape, wrap } from './common.js';

/**
 * A cluster name no snapshot defines: weighted entries for invalid backends
 * point at it, and `cluster_not_found_response_code` turns their share of
 * traffic into 500s, as the Gateway API requires.
 */
export const INVALID_BACKEND_CLUSTER = 'gatefleet/invalid-backend';

export function buildRouteConfiguration(
  fc: FilterChain,
  clusterProtocol: (cluster: string) => string | undefined,
): Record<string, unknown> {
  return {
    name: fc.name,
    virtual_hosts: fc.virtualHosts.map((vh) => virtualHost(vh, clusterProtocol)),
    validate_clusters: wrap(false),
    ignore_port_in_host_matching: true,
  };
}

/**
 * Virtual hosts built before, by IR object (IR is immutable), with the
 * cluster protocols they read. The same object back is what lets the
 * snapshot encoder and the consistency check skip it by identity.
 */
const builtVirtualHosts = new WeakMap<
  VirtualHost,
  { protocols: [string, string | undefined][]; resource: Record<string, unknown> }
>();

function virtualHost(
  vh: VirtualHost,
  clusterProtocol: (cluster: string) => string | undefined,
): Record<string, unknown> {
  const built = builtVirtualHosts.get(vh);
  if (built && built.protocols.every(([c, p]) => clusterProtocol(c) === p)) return built.resource;
  const protocols: [string, string | undefined][] = [];
  const recording = (c: string) => {
    const p = clusterProtocol(c);
    protocols.push([c, p]);
    return p;
  };
  const resource = {
    name: vh.name,
    domains: [vh.domain],
    routes: vh.routes.map((r) => route(r, recording)),
  };
  builtVirtualHosts.set(vh, { protocols, resource });
  return resource;
}

function route(
  r: Route,
  clusterProtocol: (cluster: string) => string | undefined,
): Record<string, unknown> {
  const out: Record<string, unknown> = { name: r.name, match: match(r.match) };
  switch (r.action.type) {
    case 'Forward':
      out.route = forward(r, r.action, clusterProtocol);
      break;
    case 'Redirect':
      out.redirect = redirect(r.action);
      break;
    case 'DirectResponse':
      out.direct_response = directResponse(r.action);
      break;
  }
  Object.assign(
    out,
    headerMutation(r.requestHeaders, 'request_headers_to_add', 'request_headers_to_remove'),
    headerMutation(r.responseHeaders, 'response_headers_to_add', 'response_headers_to_remove'),
  );
  if (r.cors) out.typed_per_filter_config = { [FilterName.Cors]: cors(r.cors) };
  return out;
}

function stringMatcher(m: { type: StringMatch['type']; value: string }): Record<string, unknown> {
  return m.type === 'Exact' ? { exact: m.value } : { safe_regex: { regex: m.value } };
}

function match(m: RouteMatch): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  switch (m.path.type) {
    case 'Exact':
      out.path = m.path.value;
      break;
    case 'PathPrefix':
      // Element-wise prefix: /abc matches /abc and /abc/d, never /abcd.
      if (m.path.value === '/') out.prefix = '/';
      else out.path_separated_prefix = m.path.value;
      break;
    case 'RegularExpression':
      out.safe_regex = { regex: m.path.value };
      break;
  }
  const headers = m.headers.map((h) => ({ name: h.name, string_match: stringMatcher(h) }));
  if (m.method) headers.push({ name: ':method', string_match: { exact: m.method } });
  if (headers.length > 0) out.headers = headers;
  if (m.queryParams.length > 0) {
    out.query_parameters = m.queryParams.map((q) => ({
      name: q.name,
      string_match: stringMatcher(q),
    }));
  }
  return out;
}

/**
 * Gateway API path modifiers as RE2 rewrites. ReplacePrefixMatch replaces the
 * matched path elements: with prefix /foo, /foo/bar becomes /xyz/bar for
 * /xyz (or /xyz/), and /bar for /.
 */
export function pathRewrite(p: PathRewrite): Record<string, unknown> {
  if (p.type === 'ReplaceFullPath') {
    return { pattern: { regex: '^.*$' }, substitution: p.value };
  }
  const prefix = p.prefix === '/' ? '' : p.prefix;
  const replacement = p.value.replace(/\/+$/, '');
  if (replacement === '') {
    return { pattern: { regex: `^${re2Escape(prefix)}/*(.*)$` }, substitution: '/\\1' };
  }
  return { pattern: { regex: `^${re2Escape(prefix)}(/.*)?$` }, substitution: `${replacement}\\1` };
}

function forward(
  r: Route,
  a: ForwardAction,
  clusterProtocol: (cluster: string) => string | undefined,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const simple =
    a.backends.length === 1 && !a.backends[0]!.requestHeaders && !a.backends[0]!.responseHeaders;
  if (simple && a.backends[0]!.cluster) {
    out.cluster = a.backends[0]!.cluster;
  } else {
    out.weighted_clusters = {
      clusters: a.backends.map((b) => ({
        name: b.cluster ?? INVALID_BACKEND_CLUSTER,
        weight: wrap(b.weight),
        ...headerMutation(b.requestHeaders, 'request_headers_to_add', 'request_headers_to_remove'),
        ...headerMutation(
          b.responseHeaders,
          'response_headers_to_add',
          'response_headers_to_remove',
        ),
      })),
    };
  }
  if (a.backends.some((b) => !b.cluster))
    out.cluster_not_found_response_code = 'INTERNAL_SERVER_ERROR';
  if (a.requestTimeoutMs !== undefined) out.timeout = duration(a.requestTimeoutMs);
  else if (a.backendRequestTimeoutMs !== undefined && !a.retry)
    out.timeout = duration(a.backendRequestTimeoutMs);
  if (a.retry || a.backendRequestTimeoutMs !== undefined) {
    // A rule's retry also retries connection errors (connect-failure,
    // refused-stream, reset) and tries that reach the backendRequest timeout
    // (per_try_timeout; Envoy's `reset` covers a try that times out):
    // HTTPRouteRetryConnectionError and HTTPRouteRetryBackendTimeout.
    const retry: Record<string, unknown> = {
      retry_on: !a.retry
        ? 'connect-failure,refused-stream'
        : a.retry.codes.length > 0
          ? 'connect-failure,refused-stream,reset,retriable-status-codes'
          : 'connect-failure,refused-stream,reset',
      num_retries: wrap(a.retry ? a.retry.attempts : 0),
    };
    if (a.retry && a.retry.codes.length > 0) retry.retriable_status_codes = a.retry.codes;
    if (a.retry?.backoffMs !== undefined)
      retry.retry_back_off = { base_interval: duration(a.retry.backoffMs) };
    if (a.backendRequestTimeoutMs !== undefined)
      retry.per_try_timeout = duration(a.backendRequestTimeoutMs);
    out.retry_policy = retry;
  }
  if (a.mirrors.length > 0) {
    out.request_mirror_policies = a.mirrors.map((m) =>
      m.percent >= 100
        ? { cluster: m.cluster }
        : {
            cluster: m.cluster,
            runtime_fraction: {
              default_value: { numerator: Math.round(m.percent * 10_000), denominator: 'MILLION' },
            },
          },
    );
  }
  if (r.urlRewrite?.hostname) out.host_rewrite_literal = r.urlRewrite.hostname;
  if (r.urlRewrite?.path) out.regex_rewrite = pathRewrite(r.urlRewrite.path);
  if (a.backends.some((b) => b.cluster && clusterProtocol(b.cluster) === 'websocket')) {
    out.upgrade_configs = [{ upgrade_type: 'websocket', enabled: wrap(true) }];
  }
  return out;
}

const REDIRECT_CODES: Record<RedirectAction['statusCode'], string> = {
  301: 'MOVED_PERMANENTLY',
  302: 'FOUND',
  303: 'SEE_OTHER',
  307: 'TEMPORARY_REDIRECT',
  308: 'PERMANENT_REDIRECT',
};

function redirect(a: RedirectAction): Record<string, unknown> {
  const out: Record<string, unknown> = {
    scheme_redirect: a.scheme,
    port_redirect: a.port,
    response_code: REDIRECT_CODES[a.statusCode],
  };
  if (a.hostname) out.host_redirect = a.hostname;
  if (a.path?.type === 'ReplaceFullPath') out.path_redirect = a.path.value;
  else if (a.path) out.regex_rewrite = pathRewrite(a.path);
  return out;
}

function directResponse(a: DirectResponseAction): Record<string, unknown> {
  return { status: a.status };
}

/** Gateway API origins with `*` wildcards → RE2 matchers; exact origins stay exact. */
function originMatcher(origin: string): Record<string, unknown> {
  if (origin === '*') return { safe_regex: { regex: '.*' } };
  if (!origin.includes('*')) return { exact: origin };
  return { safe_regex: { regex: origin.split('*').map(re2Escape).join('[^/]*') } };
}

function cors(c: CorsPolicy): Record<string, unknown> {
  const out: Record<string, unknown> = {
    '@type': Ext.CorsPolicy,
    allow_origin_string_match: c.allowOrigins.map(originMatcher),
    allow_credentials: wrap(c.allowCredentials),
    max_age: String(c.maxAgeSeconds),
    // A preflight from an origin the policy does not allow is answered by the gateway (no CORS
    // headers), never forwarded: the backend would answer it as if CORS allowed it.
    forward_not_matching_preflights: wrap(false),
  };
  if (c.allowMethods.length > 0) out.allow_methods = c.allowMethods.join(', ');
  if (c.allowHeaders.length > 0) out.allow_headers = c.allowHeaders.join(', ');
  if (c.exposeHeaders.length > 0) out.expose_headers = c.exposeHeaders.join(', ');
  return out;
}
