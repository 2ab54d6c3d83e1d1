// Request path normalization before matching (RFC 3986 §6.2.2): percent-
// encoded unreserved characters are decoded (so %2e is "."), dot segments are
// removed, and an encoded slash stays encoded. `/public/../admin` and
// `/public/%2e%2e/admin` both become `/admin`, so a request can only reach the
// route its effective path selects, and the backend receives that path.

const HEX = /^[0-9A-Fa-f]{2}$/;

function isUnreserved(c: number): boolean {
  return (
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x2d ||
    c === 0x2e ||
    c === 0x5f ||
    c === 0x7e
  );
}

/** Returns the normalized path, or undefined when it is not a valid origin-form path. */
export function normalizePath(path: string): string | undefined {
  if (path.length === 0 || path.charCodeAt(0) !== 47) return undefined;
  // Fast path: nothing to decode and no dot segment.
  if (!path.includes('%') && !path.includes('/.')) return path;
  let decoded = '';
  for (let i = 0; i < path.length; i++) {
    const ch = path[i]!;
    if (ch !== '%') {
      decoded += ch;
      continue;
    }
    const hex = path.slice(i + 1, i + 3);
    if (!HEX.test(hex)) return undefined;
    const code = parseInt(hex, 16);
    decoded += isUnreserved(code) ? String.fromCharCode(code) : `%${hex.toUpperCase()}`;
    i += 2;
  }
  return removeDotSegments(decoded);
}

function removeDotSegments(path: string): string {
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
