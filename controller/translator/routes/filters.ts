// HTTPRoute filters → IR filter data. Validation happens here, once per
// translation, so the data plane never interprets a filter it cannot apply.
import type {
  HTTPCORSFilter,
  HTTPHeaderFilter,
  HTTPRequestMirror,
  HTTPRequestRedirect,
  HTTPURLRewrite,
} from '../../apis/types.js';
import type { CorsPolicy, HeaderModifier, UrlRewrite } from '../../ir/types.js';
import { Reason } from '../reasons.js';
import { problem, type Problem } from './problems.js';

export function headerModifier(f: HTTPHeaderFilter | undefined): HeaderModifier | undefined {
  if (!f) return undefined;
  const mod: HeaderModifier = {
    set: (f.set ?? []).map((h) => ({ name: String(h.name), value: String(h.value) })),
    add: (f.add ?? []).map((h) => ({ name: String(h.name), value: String(h.value) })),
    remove: (f.remove ?? []).map(String),
  };
  return mod.set.length + mod.add.length + mod.remove.length > 0 ? mod : undefined;
}

/** Merges a second modifier into the first (filters of the same kind on one rule). */
export function mergeHeaderModifiers(
  a: HeaderModifier | undefined,
  b: HeaderModifier | undefined,
): HeaderModifier | undefined {
  if (!a) return b;
  if (!b) return a;
  return {
    set: [...a.set, ...b.set],
    add: [...a.add, ...b.add],
    remove: [...a.remove, ...b.remove],
  };
}

export function cors(f: HTTPCORSFilter): CorsPolicy {
  return {
    allowOrigins: (f.allowOrigins ?? []).map(String),
    allowMethods: (f.allowMethods ?? []).map(String),
    allowHeaders: (f.allowHeaders ?? []).map(String),
    exposeHeaders: (f.exposeHeaders ?? []).map(String),
    allowCredentials: f.allowCredentials === true,
    maxAgeSeconds: typeof f.maxAge === 'number' ? f.maxAge : 5,
  };
}

/** URLRewrite, with the prefix to replace filled in later per match. */
export function urlRewrite(
  f: HTTPURLRewrite,
  matchedPrefix: string | undefined,
  where: string,
): UrlRewrite | Problem {
  const out: UrlRewrite = {};
  if (f.hostname) out.hostname = f.hostname;
  if (f.path) {
    const p = pathModifier(f.path, matchedPrefix, `${where} URLRewrite`);
    if ('reason' in p) return p;
    out.path = p;
  }
  return out;
}

export function pathModifier(
  p: NonNullable<HTTPURLRewrite['path']>,
  matchedPrefix: string | undefined,
  where: string,
): NonNullable<UrlRewrite['path']> | Problem {
  if (p.type === 'ReplaceFullPath') {
    if (p.replaceFullPath === undefined) {
      return problem(Reason.UnsupportedValue, `${where}: ReplaceFullPath needs replaceFullPath`);
    }
    return { type: 'ReplaceFullPath', value: p.replaceFullPath };
  }
  if (p.type === 'ReplacePrefixMatch') {
    if (p.replacePrefixMatch === undefined) {
      return problem(
        Reason.UnsupportedValue,
        `${where}: ReplacePrefixMatch needs replacePrefixMatch`,
      );
    }
    if (matchedPrefix === undefined) {
      return problem(
        Reason.UnsupportedValue,
        `${where}: ReplacePrefixMatch needs exactly one PathPrefix match on the rule`,
      );
    }
    return { type: 'ReplacePrefixMatch', prefix: matchedPrefix, value: p.replacePrefixMatch };
  }
  return problem(
    Reason.UnsupportedValue,
    `${where}: path modifier type ${String(p.type)} is not supported`,
  );
}

const REDIRECT_CODES = new Set([301, 302, 303, 307, 308]);

export function validateRedirect(f: HTTPRequestRedirect, where: string): Problem | undefined {
  if (f.statusCode !== undefined && !REDIRECT_CODES.has(f.statusCode)) {
    return problem(
      Reason.UnsupportedValue,
      `${where}: redirect status ${f.statusCode} is not supported`,
    );
  }
  if (f.scheme !== undefined && f.scheme !== 'http' && f.scheme !== 'https') {
    return problem(
      Reason.UnsupportedValue,
      `${where}: redirect scheme ${f.scheme} is not supported`,
    );
  }
  return undefined;
}

/** Share of requests to mirror, 0–100. */
export function mirrorPercent(f: HTTPRequestMirror): number {
  if (typeof f.percent === 'number') return Math.max(0, Math.min(100, f.percent));
  if (f.fraction) {
    const den = f.fraction.denominator ?? 100;
    if (den <= 0) return 0;
    return Math.max(0, Math.min(100, (f.fraction.numerator / den) * 100));
  }
  return 100;
}
