// Envoy's StringMatcher (type.matcher.v3), compiled once: the matcher header,
// query parameter and CORS origin matches share.
import type { StringMatcher__Output as StringMatcher } from '../../xds/generated/envoy/type/matcher/v3/StringMatcher.js';
import { ConfigError } from './decode.js';
import { fullMatchRegex } from './regex.js';

/** True when the value is present and matches; an absent value never matches. */
export interface CompiledStringMatch {
  (value: string | undefined): boolean;
}

const same = (v: string) => v;
const lower = (v: string) => v.toLowerCase();

export function stringMatcher(
  m: StringMatcher | null | undefined,
  where: string,
): CompiledStringMatch {
  if (!m) throw new ConfigError(`${where}: string_match is required`);
  // Compiled tables hold tens of thousands of matchers: the case-sensitive
  // ones (nearly all) share one normalizer instead of a closure each.
  const norm = m.ignore_case === true ? lower : same;
  switch (m.match_pattern) {
    case 'exact': {
      const e = norm(m.exact ?? '');
      return (v) => v !== undefined && norm(v) === e;
    }
    case 'prefix': {
      const p = norm(m.prefix ?? '');
      return (v) => v !== undefined && norm(v).startsWith(p);
    }
    case 'suffix': {
      const s = norm(m.suffix ?? '');
      return (v) => v !== undefined && norm(v).endsWith(s);
    }
    case 'contains': {
      const c = norm(m.contains ?? '');
      return (v) => v !== undefined && norm(v).includes(c);
    }
    case 'safe_regex': {
      // Envoy ignores ignore_case for regexes: (?i) says it in the pattern.
      const re = fullMatchRegex(m.safe_regex?.regex ?? '', where);
      return (v) => v !== undefined && re.test(v);
    }
    default:
      throw new ConfigError(
        `${where}: string matcher ${m.match_pattern ?? '(none)'} is not supported`,
      );
  }
}
