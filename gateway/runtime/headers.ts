// Header handling shared by requests and responses: hop-by-hop removal and
// the header mutations routes and weighted clusters carry.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { HeaderMutation } from '../config/routes.js';

/** RFC 9110 §7.6.1 connection-specific headers, never forwarded. */
export const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-authenticate',
  'proxy-authorization',
]);

export type HeaderBag = Record<string, string | string[]>;

/** Copies headers without hop-by-hop ones, pseudo-headers, or those named in Connection. */
export function forwardableHeaders(h: IncomingHttpHeaders | OutgoingHttpHeaders): HeaderBag {
  const out: HeaderBag = {};
  const named = String(h.connection ?? '')
    .toLowerCase()
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined || k.charCodeAt(0) === 58 /* : */ || HOP_BY_HOP.has(k) || named.includes(k))
      continue;
    out[k] = Array.isArray(v) ? v.map(String) : String(v);
  }
  return out;
}

export function applyMutation(
  h: HeaderBag,
  m: HeaderMutation | undefined,
  clientAddress: string,
): void {
  if (!m) return;
  for (const name of m.remove) delete h[name];
  for (const a of m.add) {
    const value = typeof a.value === 'string' ? a.value : clientAddress;
    const existing = h[a.name];
    if (existing === undefined) h[a.name] = value;
    else if (a.ifAbsent) continue;
    else if (a.append) h[a.name] = [...(Array.isArray(existing) ? existing : [existing]), value];
    else h[a.name] = value;
  }
}
