// The header mutations routes and weighted clusters carry, applied to a bag
// of headers (requests and local replies alike).
import type { HeaderMutation } from '../config/routes.js';

export type HeaderBag = Record<string, string | string[]>;

/**
 * Applies a route's or weighted cluster's header mutation as Envoy's
 * HeaderParser does: removals first, then additions in order.
 */
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
    if (existing === undefined) {
      if (a.action !== 'ifPresent') h[a.name] = value;
    } else if (a.action === 'append') {
      h[a.name] = [...(Array.isArray(existing) ? existing : [existing]), value];
    } else if (a.action !== 'ifAbsent') h[a.name] = value;
  }
}
