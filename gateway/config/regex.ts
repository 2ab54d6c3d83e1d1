// RE2 regular expressions, the dialect Envoy's safe_regex uses, compiled
// once per configuration. Envoy matches a regex against the whole value.
import { RE2 } from 're2-wasm';
import { ConfigError } from './decode.js';

export interface CompiledRegex {
  /** True when the whole value matches. */
  test(value: string): boolean;
}

export function fullMatchRegex(pattern: string, where: string): CompiledRegex {
  try {
    const re = new RE2(`^(?:${pattern})$`, 'u');
    return { test: (v) => re.test(v) };
  } catch (e) {
    throw new ConfigError(`${where}: invalid RE2 regex "${pattern}": ${(e as Error).message}`);
  }
}

/**
 * Envoy's regex_rewrite: every match of `pattern` is replaced by
 * `substitution`, where \1…\9 refer to capture groups.
 */
export function regexRewrite(
  pattern: string,
  substitution: string,
  where: string,
): (path: string) => string {
  let re: RE2;
  try {
    re = new RE2(pattern, 'gu');
  } catch (e) {
    throw new ConfigError(`${where}: invalid RE2 regex "${pattern}": ${(e as Error).message}`);
  }
  const replacement = substitution.replace(/\$/g, '$$$$').replace(/\\(\d)/g, '$$$1');
  return (path) => path.replace(re as unknown as RegExp, replacement);
}
