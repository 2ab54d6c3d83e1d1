// HTTPRoute matches → IR matches, with the spec's defaults applied and every
// value the data plane would have to interpret validated here, once.
import { RE2 } from 're2-wasm';
import type { HTTPRouteMatch } from '../../apis/types.js';
import type { PathMatch, RouteMatch, StringMatch } from '../../ir/types.js';
import { Reason } from '../reasons.js';
import { problem, type Problem } from './problems.js';

const METHODS = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'CONNECT',
  'OPTIONS',
  'TRACE',
  'PATCH',
]);

/** The match a rule without matches gets: every request. */
export const MATCH_ALL: RouteMatch = {
  path: { type: 'PathPrefix', value: '/' },
  headers: [],
  queryParams: [],
};

/**
 * Regular expressions are RE2, the dialect Envoy runs (and gatefleet's
 * gateway, through the same engine), so a pattern is checked with RE2 here:
 * `(?i)` and `(?P<name>…)` are accepted, look-arounds and backreferences are not.
 */
export function validRegex(pattern: string): boolean {
  try {
    new RE2(pattern, 'u');
    return true;
  } catch {
    return false;
  }
}

export function normalizeMatch(m: HTTPRouteMatch, where: string): RouteMatch | Problem {
  const path = normalizePath(m.path, where);
  if ('reason' in path) return path;
  const headers: StringMatch[] = [];
  const seenHeaders = new Set<string>();
  for (const h of m.headers ?? []) {
    const name = String(h.name).toLowerCase();
    // Equivalent names: only the first entry counts (HTTPHeaderMatch).
    if (seenHeaders.has(name)) continue;
    seenHeaders.add(name);
    const sm = stringMatch(h.type, name, h.value, `${where} header ${h.name}`);
    if ('reason' in sm) return sm;
    headers.push(sm);
  }
  const queryParams: StringMatch[] = [];
  const seenParams = new Set<string>();
  for (const q of m.queryParams ?? []) {
    const name = String(q.name);
    if (seenParams.has(name)) continue;
    seenParams.add(name);
    const sm = stringMatch(q.type, name, q.value, `${where} query parameter ${q.name}`);
    if ('reason' in sm) return sm;
    queryParams.push(sm);
  }
  const out: RouteMatch = { path, headers, queryParams };
  if (m.method !== undefined) {
    if (!METHODS.has(m.method)) {
      return problem(Reason.UnsupportedValue, `${where}: method ${m.method} is not supported`);
    }
    out.method = m.method;
  }
  return out;
}

function normalizePath(p: HTTPRouteMatch['path'], where: string): PathMatch | Problem {
  const type = p?.type ?? 'PathPrefix';
  const value = p?.value ?? '/';
  if (typeof value !== 'string' || (type !== 'RegularExpression' && !value.startsWith('/'))) {
    return problem(Reason.UnsupportedValue, `${where}: path "${value}" must start with "/"`);
  }
  switch (type) {
    case 'Exact':
      return { type, value };
    case 'PathPrefix':
      // A trailing "/" is ignored: "/abc/" matches like "/abc".
      return { type, value: value.length > 1 ? value.replace(/\/+$/, '') || '/' : value };
    case 'RegularExpression':
      if (!validRegex(value)) {
        return problem(
          Reason.UnsupportedValue,
          `${where}: path regular expression "${value}" is invalid`,
        );
      }
      return { type, value };
    default:
      return problem(
        Reason.UnsupportedValue,
        `${where}: path match type ${String(type)} is not supported`,
      );
  }
}

function stringMatch(
  type: string | undefined,
  name: string,
  value: string,
  where: string,
): StringMatch | Problem {
  const t = type ?? 'Exact';
  if (t === 'Exact') return { type: 'Exact', name, value: String(value) };
  if (t === 'RegularExpression') {
    if (!validRegex(String(value))) {
      return problem(Reason.UnsupportedValue, `${where}: regular expression "${value}" is invalid`);
    }
    return { type: 'RegularExpression', name, value: String(value) };
  }
  return problem(Reason.UnsupportedValue, `${where}: match type ${t} is not supported`);
}
