// Request mirroring, fire and forget: a copy of the request (Host
// `<host>-shadow`, as Envoy sends it) goes to each mirror cluster its
// fraction selects; the answer is read and dropped, failures are ignored, and
// nothing about a mirror can delay or fail the request itself. A mirror reads
// its own copy of the body (RequestBody.tee), dropped if it falls behind. A
// mirror that stays silent is given up after the route's timeout.
import type { Dispatcher } from 'undici';
import type { RequestBody } from './body.js';
import type { ForwardContext } from './forward.js';
import { withHost, type FlatHeaders } from './forward-headers.js';
import type { HeaderBag } from './headers.js';

/** Reads a mirror's answer to the end (so its connection is reused) and drops it. */
const DISCARD: Dispatcher.DispatchHandler = {
  onConnect() {},
  onHeaders: () => true,
  onData: () => true,
  onComplete() {},
  onError() {},
};

/** `<host>-shadow`, with the port (if any) kept after the suffix. */
export function shadowHost(host: string): string {
  const colon = host.lastIndexOf(':');
  if (colon > 0 && host.indexOf(']', colon) < 0 && /^\d+$/.test(host.slice(colon + 1)))
    return `${host.slice(0, colon)}-shadow${host.slice(colon)}`;
  return `${host}-shadow`;
}

export function startMirrors(
  ctx: ForwardContext,
  host: string,
  headers: FlatHeaders | HeaderBag,
  body: RequestBody | null,
): void {
  const a = ctx.action;
  for (const m of a.mirrors) {
    if (m.fraction < 1 && Math.random() >= m.fraction) continue;
    const cluster = ctx.cfg.clusters.get(m.cluster);
    const d = cluster && ctx.upstreams.pick(cluster);
    if (!d) continue;
    try {
      d.dispatch(
        {
          method: ctx.method as Dispatcher.HttpMethod,
          path: ctx.path,
          headers: withHost(headers, shadowHost(host)),
          body: body === null ? null : body.tee(),
          headersTimeout: a.timeoutMs,
          bodyTimeout: a.timeoutMs,
        },
        DISCARD,
      );
    } catch {
      // A mirror never fails the request.
    }
  }
}
