// PEM text helpers shared by the issuer and its adapter.

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

/** Every PEM block of `label` in `text`, in order, each ending with a newline. */
export function pemBlocks(text: string, label = 'CERTIFICATE'): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(BLOCK)) if (m[1] === label) out.push(`${m[0]}\n`);
  return out;
}

/**
 * PEM text from a value that is PEM, or base64 of PEM (a Secret's `data`
 * entry as stored); undefined when it is neither.
 */
export function pemText(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value.includes('-----BEGIN ')) return value;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  return decoded.includes('-----BEGIN ') ? decoded : undefined;
}

/** Equal PEM bundles, ignoring line endings and surrounding whitespace. */
export function samePem(a: string, b: string): boolean {
  const norm = (s: string) => s.replace(/\r\n/g, '\n').trim();
  return norm(a) === norm(b);
}
