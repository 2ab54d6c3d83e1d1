// RouteConfiguration → a compiled route table: virtual hosts indexed by
// domain, routes with their matchers and actions prepared once, so a request
// does no parsing and builds no regex. Anything the gateway cannot do exactly
// as Envoy would is rejected with the field that asks for it.
import type { RouteConfiguration__Output as RouteConfiguration } from '../../xds/generated/envoy/config/route/v3/RouteConfiguration.js';
import type { Route__Output as Route } from '../../xds/generated/envoy/config/route/v3/Route.js';
import type { VirtualHost__Output as VirtualHost } from '../../xds/generated/envoy/config/route/v3/VirtualHost.js';
import type { RouteAction__Output as RouteAction } from '../../xds/generated/envoy/config/route/v3/RouteAction.js';
import type { RedirectAction__Output as RedirectAction } from '../../xds/generated/envoy/config/route/v3/RedirectAction.js';
import type { HeaderMatcher__Output as HeaderMatcher } from '../../xds/generated/envoy/config/route/v3/HeaderMatcher.js';
import type { HeaderValueOption__Output as HeaderValueOption } from '../../xds/generated/envoy/config/core/v3/HeaderValueOption.js';
import { compileCors, type CompiledCors } from './cors.js';
import { ConfigError, durationMs } from './decode.js';
import { parseHeaderValue, type HeaderValue } from './header-values.js';
import { fullMatchRegex, regexRewrite, type CompiledRegex } from './regex.js';
import { stringMatcher, type CompiledStringMatch } from './string-match.js';

export type { CompiledCors, CompiledStringMatch };

export interface HeaderAdd {
  name: string;
  value: HeaderValue;
  /**
   * Envoy's append_action: append another value, replace the values (or
   * add), add only when absent, replace only when present.
   */
  action: 'append' | 'overwrite' | 'ifAbsent' | 'ifPresent';
}

export interface HeaderMutation {
  add: HeaderAdd[];
  remove: string[];
}

export interface WeightedTarget {
  cluster: string;
  weight: number;
  request?: HeaderMutation;
  response?: HeaderMutation;
}

export interface RetryPolicy {
  on: Set<string>;
  numRetries: number;
  statusCodes: Set<number>;
  perTryTimeoutMs?: number;
  backoffBaseMs: number;
}

export interface ForwardAction {
  kind: 'forward';
  targets: WeightedTarget[];
  totalWeight: number;
  clusterNotFoundStatus: number;
  /** Whole-request timeout; 0 disables it. Envoy's default is 15 s. */
  timeoutMs: number;
  retry?: RetryPolicy;
  mirrors: { cluster: string; fraction: number }[];
  hostRewrite?: string;
  pathRewrite?: (path: string) => string;
  websocket: boolean;
}

export interface RedirectActionC {
  kind: 'redirect';
  scheme?: string;
  host?: string;
  port?: number;
  path?: string;
  pathRewrite?: (path: string) => string;
  prefixRewrite?: string;
  status: number;
  stripQuery: boolean;
}

export interface DirectAction {
  kind: 'direct';
  status: number;
  body?: string;
}

export interface CompiledRoute {
  name: string;
  path: (path: string) => boolean;
  /** Prefix matched, for prefix_rewrite. */
  prefix?: string;
  headers: { name: string; test: CompiledStringMatch }[];
  query: { name: string; test: CompiledStringMatch }[];
  action: ForwardAction | RedirectActionC | DirectAction;
  request: HeaderMutation;
  response: HeaderMutation;
  cors?: CompiledCors;
}

export interface CompiledVirtualHost {
  name: string;
  routes: CompiledRoute[];
}

export interface CompiledRouteTable {
  name: string;
  exact: Map<string, CompiledVirtualHost>;
  /** `*.suffix` domains, longest suffix first; the suffix includes the leading dot. */
  suffixes: { suffix: string; vhost: CompiledVirtualHost }[];
  /** `prefix*` domains, longest first. */
  prefixes: { prefix: string; vhost: CompiledVirtualHost }[];
  any?: CompiledVirtualHost;
  /** ignore_port_in_host_matching: the Host's port is left out of matching (and still forwarded). */
  ignorePort: boolean;
}

function headerMatcher(
  h: HeaderMatcher,
  where: string,
): { name: string; test: CompiledStringMatch } {
  const name = (h.name ?? '').toLowerCase();
  const w = `${where} header ${name}`;
  let test: CompiledStringMatch;
  switch (h.header_match_specifier) {
    case 'string_match':
      test = stringMatcher(h.string_match, w);
      break;
    case 'present_match':
      test = h.present_match ? (v) => v !== undefined : (v) => v === undefined;
      break;
    case 'exact_match': {
      const e = h.exact_match ?? '';
      test = (v) => v === e;
      break;
    }
    case undefined:
      test = (v) => v !== undefined;
      break;
    default:
      throw new ConfigError(`${w}: ${h.header_match_specifier} is not supported`);
  }
  if (h.invert_match) {
    const inner = test;
    test = (v) => !inner(v);
  }
  return { name, test };
}

const APPEND_ACTIONS: Record<string, HeaderAdd['action']> = {
  APPEND_IF_EXISTS_OR_ADD: 'append',
  OVERWRITE_IF_EXISTS_OR_ADD: 'overwrite',
  ADD_IF_ABSENT: 'ifAbsent',
  OVERWRITE_IF_EXISTS: 'ifPresent',
};

/** Envoy refuses to add, set or remove these (HeaderParser::configure): a NACK. */
function checkModifiable(name: string, where: string): void {
  if (name === '') throw new ConfigError(`${where}: header key is required`);
  if (name === 'host' || name.charCodeAt(0) === 58 /* : */)
    throw new ConfigError(
      `${where}: header ${name}: :-prefixed or host headers may not be modified`,
    );
}

/**
 * Shared by every route and backend without header changes: a 5,000-route
 * table has tens of thousands of them, and the gateway's memory is a target.
 * Frozen because it is shared; nothing mutates compiled configuration.
 */
const NO_MUTATION: HeaderMutation = Object.freeze({
  add: Object.freeze([]) as unknown as HeaderAdd[],
  remove: Object.freeze([]) as unknown as string[],
});
const NO_MATCHERS: CompiledRoute['headers'] = Object.freeze(
  [],
) as unknown as CompiledRoute['headers'];
const NO_MIRRORS: ForwardAction['mirrors'] = Object.freeze(
  [],
) as unknown as ForwardAction['mirrors'];

function headerMutation(
  add: HeaderValueOption[] | undefined,
  remove: string[] | undefined,
  where: string,
): HeaderMutation {
  if (!add?.length && !remove?.length) return NO_MUTATION;
  const out: HeaderMutation = { add: [], remove: [] };
  for (const o of add ?? []) {
    const name = (o.header?.key ?? '').toLowerCase();
    checkModifiable(name, where);
    if (o.append !== undefined && o.append !== null) {
      throw new ConfigError(
        `${where}: header ${name}: the deprecated append field is not supported; use append_action`,
      );
    }
    const action = APPEND_ACTIONS[o.append_action ?? 'APPEND_IF_EXISTS_OR_ADD'];
    if (!action)
      throw new ConfigError(
        `${where}: header ${name}: append_action ${o.append_action} is not supported`,
      );
    const raw = o.header?.value ?? '';
    // Envoy adds nothing for an empty value unless keep_empty_value is set.
    if (raw === '' && o.keep_empty_value !== true) continue;
    out.add.push({ name, value: parseHeaderValue(raw, `${where} header ${name}`), action });
  }
  for (const h of remove ?? []) {
    const name = h.toLowerCase();
    checkModifiable(name, where);
    out.remove.push(name);
  }
  return out.add.length || out.remove.length ? out : NO_MUTATION;
}

function pathMatcher(r: Route, where: string): { test: (p: string) => boolean; prefix?: string } {
  const m = r.match;
  if (!m) throw new ConfigError(`${where}: match is required`);
  if (m.case_sensitive && m.case_sensitive.value === false) {
    throw new ConfigError(`${where}: case-insensitive path matching is not supported`);
  }
  switch (m.path_specifier) {
    case 'prefix': {
      const p = m.prefix ?? '';
      return { test: (path) => path.startsWith(p), prefix: p };
    }
    case 'path': {
      const e = m.path ?? '';
      return { test: (path) => path === e };
    }
    case 'path_separated_prefix': {
      const p = m.path_separated_prefix ?? '';
      return {
        test: (path) =>
          path.startsWith(p) && (path.length === p.length || path.charCodeAt(p.length) === 47),
        prefix: p,
      };
    }
    case 'safe_regex': {
      const re: CompiledRegex = fullMatchRegex(m.safe_regex?.regex ?? '', `${where} path`);
      return { test: (path) => re.test(path) };
    }
    default:
      throw new ConfigError(
        `${where}: path specifier ${m.path_specifier ?? '(none)'} is not supported`,
      );
  }
}

const REDIRECT_STATUS: Record<string, number> = {
  MOVED_PERMANENTLY: 301,
  FOUND: 302,
  SEE_OTHER: 303,
  TEMPORARY_REDIRECT: 307,
  PERMANENT_REDIRECT: 308,
};

const NOT_FOUND_STATUS: Record<string, number> = {
  SERVICE_UNAVAILABLE: 503,
  NOT_FOUND: 404,
  INTERNAL_SERVER_ERROR: 500,
};

/** Envoy's route timeout default. */
export const DEFAULT_ROUTE_TIMEOUT_MS = 15_000;

function forwardAction(a: RouteAction, where: string): ForwardAction {
  let targets: WeightedTarget[];
  switch (a.cluster_specifier) {
    case 'cluster':
      targets = [{ cluster: a.cluster ?? '', weight: 1 }];
      break;
    case 'weighted_clusters':
      targets = (a.weighted_clusters?.clusters ?? []).map((c, i) => {
        const w = `${where} weighted cluster ${i}`;
        return {
          cluster: c.name ?? '',
          weight: c.weight?.value ?? 0,
          request: headerMutation(c.request_headers_to_add, c.request_headers_to_remove, w),
          response: headerMutation(c.response_headers_to_add, c.response_headers_to_remove, w),
        };
      });
      break;
    default:
      throw new ConfigError(
        `${where}: cluster specifier ${a.cluster_specifier ?? '(none)'} is not supported`,
      );
  }
  const totalWeight = targets.reduce((s, t) => s + t.weight, 0);
  if (totalWeight <= 0)
    throw new ConfigError(`${where}: weighted clusters need a positive total weight`);
  const out: ForwardAction = {
    kind: 'forward',
    targets,
    totalWeight,
    clusterNotFoundStatus:
      NOT_FOUND_STATUS[a.cluster_not_found_response_code ?? 'SERVICE_UNAVAILABLE'] ?? 503,
    timeoutMs: a.timeout ? durationMs(a.timeout)! : DEFAULT_ROUTE_TIMEOUT_MS,
    mirrors: !a.request_mirror_policies?.length
      ? NO_MIRRORS
      : a.request_mirror_policies.map((m) => {
          const f = m.runtime_fraction?.default_value;
          const den =
            { HUNDRED: 100, TEN_THOUSAND: 10_000, MILLION: 1_000_000 }[
              f?.denominator ?? 'HUNDRED'
            ] ?? 100;
          return { cluster: m.cluster ?? '', fraction: f ? (f.numerator ?? 0) / den : 1 };
        }),
    websocket: (a.upgrade_configs ?? []).some(
      (u) => u.upgrade_type === 'websocket' && u.enabled?.value !== false,
    ),
  };
  if (a.host_rewrite_specifier === 'host_rewrite_literal')
    out.hostRewrite = a.host_rewrite_literal ?? '';
  else if (a.host_rewrite_specifier) {
    throw new ConfigError(`${where}: ${a.host_rewrite_specifier} is not supported`);
  }
  if (a.regex_rewrite) {
    out.pathRewrite = regexRewrite(
      a.regex_rewrite.pattern?.regex ?? '',
      a.regex_rewrite.substitution ?? '',
      `${where} regex_rewrite`,
    );
  } else if (a.prefix_rewrite) {
    throw new ConfigError(`${where}: prefix_rewrite is not supported; use regex_rewrite`);
  }
  const rp = a.retry_policy;
  if (rp) {
    out.retry = {
      on: new Set(
        (rp.retry_on ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      ),
      numRetries: rp.num_retries?.value ?? 1,
      statusCodes: new Set(rp.retriable_status_codes ?? []),
      backoffBaseMs: durationMs(rp.retry_back_off?.base_interval) ?? 25,
      ...(rp.per_try_timeout ? { perTryTimeoutMs: durationMs(rp.per_try_timeout)! } : {}),
    };
  }
  return out;
}

function redirectAction(r: RedirectAction, where: string): RedirectActionC {
  const out: RedirectActionC = {
    kind: 'redirect',
    status: REDIRECT_STATUS[r.response_code ?? 'MOVED_PERMANENTLY'] ?? 301,
    stripQuery: r.strip_query === true,
  };
  if (r.scheme_rewrite_specifier === 'scheme_redirect') out.scheme = r.scheme_redirect ?? undefined;
  else if (r.scheme_rewrite_specifier === 'https_redirect' && r.https_redirect)
    out.scheme = 'https';
  if (r.host_redirect) out.host = r.host_redirect;
  if (r.port_redirect) out.port = r.port_redirect;
  switch (r.path_rewrite_specifier) {
    case 'path_redirect':
      out.path = r.path_redirect ?? '/';
      break;
    case 'prefix_rewrite':
      out.prefixRewrite = r.prefix_rewrite ?? '';
      break;
    case 'regex_rewrite':
      out.pathRewrite = regexRewrite(
        r.regex_rewrite?.pattern?.regex ?? '',
        r.regex_rewrite?.substitution ?? '',
        `${where} regex_rewrite`,
      );
      break;
  }
  return out;
}

export function compileRoute(r: Route, where: string): CompiledRoute {
  const w = `${where} route ${r.name ?? ''}`.trimEnd();
  const path = pathMatcher(r, w);
  let action: CompiledRoute['action'];
  switch (r.action) {
    case 'route':
      action = forwardAction(r.route!, w);
      break;
    case 'redirect':
      action = redirectAction(r.redirect!, w);
      break;
    case 'direct_response':
      action = {
        kind: 'direct',
        status: r.direct_response?.status ?? 200,
        ...(r.direct_response?.body?.inline_string
          ? { body: r.direct_response.body.inline_string }
          : {}),
      };
      break;
    default:
      throw new ConfigError(`${w}: action ${r.action ?? '(none)'} is not supported`);
  }
  const out: CompiledRoute = {
    name: r.name ?? '',
    path: path.test,
    headers: r.match?.headers?.length
      ? r.match.headers.map((h) => headerMatcher(h, w))
      : NO_MATCHERS,
    query: !r.match?.query_parameters?.length
      ? NO_MATCHERS
      : r.match.query_parameters.map((q) => {
          const name = q.name ?? '';
          if (q.query_parameter_match_specifier === 'present_match') {
            return { name, test: (v: string | undefined) => v !== undefined };
          }
          return { name, test: stringMatcher(q.string_match, `${w} query ${name}`) };
        }),
    action,
    request: headerMutation(r.request_headers_to_add, r.request_headers_to_remove, w),
    response: headerMutation(r.response_headers_to_add, r.response_headers_to_remove, w),
  };
  if (path.prefix !== undefined) out.prefix = path.prefix;
  const cors = compileCors(r.typed_per_filter_config?.['envoy.filters.http.cors'], w);
  if (cors) out.cors = cors;
  return out;
}

/**
 * Compiles a RouteConfiguration. `routesOf` compiles a virtual host's routes
 * (route-table-compiler.ts passes one that reuses routes compiled before).
 */
export function compileRouteTable(
  rc: RouteConfiguration,
  routesOf: (vh: VirtualHost, where: string) => CompiledRoute[] = (vh, where) =>
    (vh.routes ?? []).map((r) => compileRoute(r, where)),
): CompiledRouteTable {
  const name = rc.name ?? '';
  const table: CompiledRouteTable = {
    name,
    exact: new Map(),
    suffixes: [],
    prefixes: [],
    ignorePort: rc.ignore_port_in_host_matching === true,
  };
  const seen = new Set<string>();
  for (const vh of rc.virtual_hosts ?? []) {
    const where = `RouteConfiguration ${name} virtual host ${vh.name ?? ''}`;
    const compiled: CompiledVirtualHost = {
      name: vh.name ?? '',
      routes: routesOf(vh, where),
    };
    for (const raw of vh.domains ?? []) {
      const d = raw.toLowerCase();
      if (seen.has(d))
        throw new ConfigError(`${where}: domain ${d} is used by more than one virtual host`);
      seen.add(d);
      if (d === '*') table.any = compiled;
      else if (d.startsWith('*')) table.suffixes.push({ suffix: d.slice(1), vhost: compiled });
      else if (d.endsWith('*')) table.prefixes.push({ prefix: d.slice(0, -1), vhost: compiled });
      else table.exact.set(d, compiled);
    }
  }
  table.suffixes.sort((a, b) => b.suffix.length - a.suffix.length);
  table.prefixes.sort((a, b) => b.prefix.length - a.prefix.length);
  return table;
}
