// Everything about an HTTPRoute that does not depend on which listener it
// attaches to: its rules validated and turned into templates of IR routes,
// the rules that must be dropped, and the references that do not resolve.
import type { HTTPRoute, HTTPRouteRule, HTTPRequestRedirect } from '../../apis/types.js';
import type {
  CorsPolicy,
  DirectResponseAction,
  ForwardAction,
  HeaderModifier,
  Mirror,
  RetryPolicy,
  RouteMatch,
  UrlRewrite,
  WeightedBackend,
} from '../../ir/types.js';
import { parseDuration } from '../durations.js';
import { key } from '../input.js';
import { Reason } from '../reasons.js';
import { resolveBackend, type BackendContext, type ClusterSpec } from './backends.js';
import {
  cors,
  headerModifier,
  mergeHeaderModifiers,
  mirrorPercent,
  pathModifier,
  urlRewrite,
  validateRedirect,
} from './filters.js';
import { MATCH_ALL, normalizeMatch } from './matches.js';
import { problem, type Problem } from './problems.js';

export interface RuleTemplate {
  index: number;
  name?: string;
  matches: RouteMatch[];
  requestHeaders?: HeaderModifier;
  responseHeaders?: HeaderModifier;
  urlRewrite?: UrlRewrite;
  cors?: CorsPolicy;
  /** Set for redirect rules; the Location depends on the listener, so it is built per chain. */
  redirect?: { filter: HTTPRequestRedirect; path?: NonNullable<UrlRewrite['path']> };
  /** Set for every rule that is not a redirect. */
  action?: ForwardAction | DirectResponseAction;
}

export interface RouteAnalysis {
  route: HTTPRoute;
  key: string;
  namespace: string;
  name: string;
  generation: number;
  created: string;
  hostnames: string[];
  rules: RuleTemplate[];
  dropped: { index: number; problem: Problem }[];
  refProblems: Problem[];
  clusters: ClusterSpec[];
}

export function analyzeRoute(route: HTTPRoute, ctx: BackendContext): RouteAnalysis {
  const namespace = route.metadata.namespace ?? 'default';
  const out: RouteAnalysis = {
    route,
    key: key(namespace, route.metadata.name),
    namespace,
    name: route.metadata.name,
    generation: route.metadata.generation ?? 1,
    created: route.metadata.creationTimestamp ?? '',
    hostnames: (route.spec.hostnames ?? []).map((h) => String(h).toLowerCase()),
    rules: [],
    dropped: [],
    refProblems: [],
    clusters: [],
  };
  (route.spec.rules ?? []).forEach((rule, index) => {
    const r = analyzeRule(rule, index, namespace, ctx, out);
    if ('reason' in r) out.dropped.push({ index, problem: r });
    else out.rules.push(r);
  });
  return out;
}

function analyzeRule(
  rule: HTTPRouteRule,
  index: number,
  namespace: string,
  ctx: BackendContext,
  acc: RouteAnalysis,
): RuleTemplate | Problem {
  const where = `rule ${index}${rule.name ? ` (${rule.name})` : ''}`;
  const t: RuleTemplate = { index, matches: [] };
  if (rule.name) t.name = rule.name;

  const matches = rule.matches && rule.matches.length > 0 ? rule.matches : undefined;
  if (matches) {
    for (const [j, m] of matches.entries()) {
      const nm = normalizeMatch(m, `${where} match ${j}`);
      if ('reason' in nm) return nm;
      t.matches.push(nm);
    }
  } else {
    t.matches.push(MATCH_ALL);
  }
  const only = t.matches.length === 1 ? t.matches[0] : undefined;
  const matchedPrefix = only?.path.type === 'PathPrefix' ? only.path.value : undefined;

  if (rule.sessionPersistence) {
    return problem(Reason.UnsupportedValue, `${where}: sessionPersistence is not supported`);
  }

  // Rule filters. Unknown types make the rule invalid (UnsupportedValue);
  // filters gatefleet does not implement make it invalid too (IncompatibleFilters).
  const mirrors: Mirror[] = [];
  let unresolvedExtension: string | undefined;
  for (const [i, f] of (rule.filters ?? []).entries()) {
    const fw = `${where} filter ${i} (${f.type})`;
    switch (f.type) {
      case 'RequestHeaderModifier':
        t.requestHeaders = mergeHeaderModifiers(
          t.requestHeaders,
          headerModifier(f.requestHeaderModifier),
        );
        break;
      case 'ResponseHeaderModifier':
        t.responseHeaders = mergeHeaderModifiers(
          t.responseHeaders,
          headerModifier(f.responseHeaderModifier),
        );
        break;
      case 'RequestRedirect': {
        if (!f.requestRedirect)
          return problem(Reason.UnsupportedValue, `${fw}: requestRedirect is required`);
        const bad = validateRedirect(f.requestRedirect, fw);
        if (bad) return bad;
        const redirect: RuleTemplate['redirect'] = { filter: f.requestRedirect };
        if (f.requestRedirect.path) {
          const p = pathModifier(f.requestRedirect.path, matchedPrefix, fw);
          if ('reason' in p) return p;
          redirect.path = p;
        }
        t.redirect = redirect;
        break;
      }
      case 'URLRewrite': {
        if (!f.urlRewrite) return problem(Reason.UnsupportedValue, `${fw}: urlRewrite is required`);
        const rw = urlRewrite(f.urlRewrite, matchedPrefix, fw);
        if ('reason' in rw) return rw;
        t.urlRewrite = rw;
        break;
      }
      case 'RequestMirror': {
        if (!f.requestMirror)
          return problem(Reason.UnsupportedValue, `${fw}: requestMirror is required`);
        const c = resolveBackend(f.requestMirror.backendRef, namespace, ctx, `${fw} backendRef`);
        if ('reason' in c) {
          acc.refProblems.push(c);
          break;
        }
        acc.clusters.push(c);
        mirrors.push({ cluster: c.name, percent: mirrorPercent(f.requestMirror) });
        break;
      }
      case 'CORS':
        if (!f.cors) return problem(Reason.UnsupportedValue, `${fw}: cors is required`);
        t.cors = cors(f.cors);
        break;
      case 'ExtensionRef': {
        const ref = f.extensionRef;
        const id = ref ? `${ref.group}/${ref.kind} ${ref.name}` : 'missing reference';
        unresolvedExtension = `${fw}: extension ${id} cannot be resolved; gatefleet has no filter extensions`;
        acc.refProblems.push(problem(Reason.InvalidKind, unresolvedExtension));
        break;
      }
      case 'ExternalAuth':
        return problem(Reason.IncompatibleFilters, `${fw}: ExternalAuth is not supported`);
      default:
        return problem(Reason.UnsupportedValue, `${fw}: filter type is not supported`);
    }
  }
  if (t.redirect && t.urlRewrite) {
    return problem(
      Reason.IncompatibleFilters,
      `${where}: RequestRedirect and URLRewrite cannot be combined`,
    );
  }

  const timeouts = ruleTimeouts(rule, where);
  if ('reason' in timeouts) return timeouts;
  const retry = ruleRetry(rule, where);
  if (retry && 'reason' in retry) return retry;

  // Backends are resolved even for redirect rules so their problems are reported.
  const backends: WeightedBackend[] = [];
  for (const [i, b] of (rule.backendRefs ?? []).entries()) {
    const bw = `${where} backendRef ${i}`;
    const weight = b.weight ?? 1;
    const wb: WeightedBackend = { weight };
    for (const [k, f] of (b.filters ?? []).entries()) {
      if (f.type === 'RequestHeaderModifier') {
        wb.requestHeaders = mergeHeaderModifiers(
          wb.requestHeaders,
          headerModifier(f.requestHeaderModifier),
        );
      } else if (f.type === 'ResponseHeaderModifier') {
        wb.responseHeaders = mergeHeaderModifiers(
          wb.responseHeaders,
          headerModifier(f.responseHeaderModifier),
        );
      } else {
        return problem(
          Reason.IncompatibleFilters,
          `${bw} filter ${k} (${f.type}): only header modifiers are supported on a backendRef`,
        );
      }
    }
    const c = resolveBackend(b, namespace, ctx, bw);
    if ('reason' in c) {
      acc.refProblems.push(c);
      wb.invalid = c.message;
    } else {
      acc.clusters.push(c);
      wb.cluster = c.name;
    }
    if (weight > 0) backends.push(wb);
  }

  // An unresolved extension filter is never skipped: its requests get a 500,
  // whatever else the rule would do (HTTPRouteFilter.Type).
  if (unresolvedExtension) {
    delete t.redirect;
    t.action = { type: 'DirectResponse', status: 500, reason: unresolvedExtension };
    return t;
  }
  if (t.redirect) return t;
  if (!backends.some((b) => b.cluster !== undefined)) {
    const reason =
      (rule.backendRefs ?? []).length === 0
        ? 'rule has no backendRefs'
        : backends.length === 0
          ? 'every backendRef has weight 0'
          : 'no backendRef resolves';
    t.action = { type: 'DirectResponse', status: 500, reason };
    return t;
  }
  const fwd: ForwardAction = { type: 'Forward', backends, mirrors };
  if (timeouts.request !== undefined) fwd.requestTimeoutMs = timeouts.request;
  if (timeouts.backendRequest !== undefined) fwd.backendRequestTimeoutMs = timeouts.backendRequest;
  if (retry) fwd.retry = retry;
  t.action = fwd;
  return t;
}

function ruleTimeouts(
  rule: HTTPRouteRule,
  where: string,
): { request?: number; backendRequest?: number } | Problem {
  const out: { request?: number; backendRequest?: number } = {};
  for (const field of ['request', 'backendRequest'] as const) {
    const v = rule.timeouts?.[field];
    if (v === undefined) continue;
    const ms = parseDuration(v);
    if (ms === undefined) {
      return problem(
        Reason.UnsupportedValue,
        `${where}: timeouts.${field} "${v}" is not a valid duration`,
      );
    }
    out[field] = ms;
  }
  if (
    out.request !== undefined &&
    out.request !== 0 &&
    out.backendRequest !== undefined &&
    out.backendRequest > out.request
  ) {
    return problem(
      Reason.UnsupportedValue,
      `${where}: timeouts.backendRequest cannot be longer than timeouts.request`,
    );
  }
  return out;
}

function ruleRetry(rule: HTTPRouteRule, where: string): RetryPolicy | Problem | undefined {
  const r = rule.retry;
  if (!r) return undefined;
  const out: RetryPolicy = {
    attempts: typeof r.attempts === 'number' ? Math.max(0, r.attempts) : 1,
    codes: [...new Set((r.codes ?? []).map(Number))].sort((a, b) => a - b),
  };
  if (r.backoff !== undefined) {
    const ms = parseDuration(r.backoff);
    if (ms === undefined) {
      return problem(
        Reason.UnsupportedValue,
        `${where}: retry.backoff "${r.backoff}" is not a valid duration`,
      );
    }
    out.backoffMs = ms;
  }
  return out;
}
