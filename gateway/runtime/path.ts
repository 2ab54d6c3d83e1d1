// The request path the gateway matches and forwards, prepared as Envoy's
// HTTP connection manager does (ConnectionManagerUtility::maybeNormalizePath):
// escaped slashes first (per path_with_escaped_slashes_action), then RFC 3986
// normalization (normalize_path, Envoy's snapshot of Chromium's path
// canonicalizer), then merge_slashes. Normalization:
// - percent-encoded unreserved characters are decoded (`%2e` is "."), other
//   escapes are kept exactly as sent (an encoded slash stays encoded, so it
//   never separates segments), and characters a path may not carry raw are
//   escaped;
// - a backslash is a slash (Chromium, for IE compatibility);
// - dot segments are removed, so `/public/../admin` and `/public/%2e%2e/admin`
//   are both `/admin`: a request reaches only the route its effective path
//   selects, and the backend receives that path.
// Stricter than Envoy on purpose: a `%` that does not start an escape, an
// escaped NUL, and a fragment (`#`, never sent by a conforming client) make
// the path invalid (400) rather than being passed on.
import type { CompiledChain } from '../config/listeners.js';

const HEX = '0123456789ABCDEF';

/** Per character code below 128: 0 copy, 1 decode when escaped, 2 escape when raw. */
const CLASS = new Uint8Array(128);
for (let c = 0; c < 0x21; c++) CLASS[c] = 2;
for (const ch of '"<>`{|}^') CLASS[ch.charCodeAt(0)] = 2;
CLASS[0x7f] = 2;
for (let c = 0x30; c <= 0x39; c++) CLASS[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) CLASS[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) CLASS[c] = 1;
for (const ch of '-._~') CLASS[ch.charCodeAt(0)] = 1;

/** Anything that needs more than a copy: escapes, backslashes, dot segments, raw specials. */
// eslint-disable-next-line no-control-regex
const NEEDS_WORK = /[%\\#\x00-\x20"<>`{|}^\x7f-\uffff]|\/\./;
const ESCAPED_SLASH = /%2f|%5c/i;

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x61 + 10 : -1;
}

function escapeByte(b: number): string {
  return `%${HEX[b >> 4]}${HEX[b & 15]}`;
}

/**
 * RFC 3986 normalization of an origin-form path (no query). Returns
 * undefined when the path is not valid (the request gets 400).
 */
export function normalizePath(path: string): string | undefined {
  const first = path.charCodeAt(0);
  if (first !== 47 /* / */ && first !== 92 /* \ */) return undefined;
  if (!NEEDS_WORK.test(path)) return path;
  let out = '';
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 37 /* % */) {
      const hi = hexValue(path.charCodeAt(i + 1));
      const lo = hexValue(path.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) return undefined;
      const b = hi * 16 + lo;
      if (b === 0) return undefined;
      out += b < 128 && CLASS[b] === 1 ? String.fromCharCode(b) : path.slice(i, i + 3);
      i += 2;
    } else if (c === 92 /* \ */) out += '/';
    else if (c === 35 /* # */) return undefined;
    else if (c >= 128) {
      for (const b of Buffer.from(path[i]!, c < 256 ? 'latin1' : 'utf8')) out += escapeByte(b);
    } else if (CLASS[c] === 2) {
      if (c === 0) return undefined;
      out += escapeByte(c);
    } else out += path[i];
  }
  return removeDotSegments(out);
}

/** RFC 3986 §5.2.4 on a path of "/"-separated segments starting with "/". */
function removeDotSegments(path: string): string {
  if (!path.includes('/.')) return path;
  const out: string[] = [];
  const segments = path.split('/');
  // segments[0] is "" (the path starts with "/").
  for (let i = 1; i < segments.length; i++) {
    const s = segments[i]!;
    const last = i === segments.length - 1;
    if (s === '.') {
      if (last) out.push('');
    } else if (s === '..') {
      out.pop();
      if (last) out.push('');
    } else out.push(s);
  }
  return `/${out.join('/')}`;
}

/**
 * The path a chain routes and forwards (query excluded), or undefined when
 * the request must be refused with 400.
 */
export function preparePath(path: string, chain: CompiledChain): string | undefined {
  let p = path;
  if (chain.escapedSlashes !== 'keep' && ESCAPED_SLASH.test(p)) {
    if (chain.escapedSlashes === 'reject') return undefined;
    p = p.replace(/%2f/gi, '/').replace(/%5c/gi, '\\');
  }
  if (chain.normalizePath) {
    const n = normalizePath(p);
    if (n === undefined) return undefined;
    p = n;
  } else if (p.charCodeAt(0) !== 47) return undefined;
  if (chain.mergeSlashes && p.includes('//')) p = p.replace(/\/{2,}/g, '/');
  return p;
}
