// The headers a forwarded exchange carries. Upstream: the client's headers
// in their order and case, without the hop-by-hop ones (RFC 9110 §7.6.1:
// Connection and every header it names, Keep-Alive, Proxy-*, TE, Trailer,
// Transfer-Encoding, Upgrade) nor Expect (the gateway answers 100-continue
// itself), then Host, X-Forwarded-For (the client's address appended to any
// value it sent, as Envoy does with use_remote_address), X-Forwarded-Proto
// and X-Forwarded-Host (replaced: no proxy in front of the gateway is
// trusted) and X-Request-Id, then the route's and the backend's mutations.
// Downstream: the upstream's headers without the hop-by-hop ones, then the
// mutations. Both are flat [name, value, …] arrays, which undici and Node
// take as they are; a header bag is built only when a mutation has to run.
import type { HeaderMutation } from '../config/routes.js';
import { applyMutation, type HeaderBag } from './headers.js';

export type FlatHeaders = string[];

const DROP = 1;
const XFF = 2;
const TE = 3;

/** Request header names (lower case) the gateway does not copy as they are. */
const REQUEST_NAMES = new Map<string, number>([
  ['host', DROP],
  ['connection', DROP],
  ['keep-alive', DROP],
  ['te', TE],
  ['trailer', DROP],
  ['transfer-encoding', DROP],
  ['upgrade', DROP],
  ['expect', DROP],
  ['x-forwarded-for', XFF],
  ['x-forwarded-proto', DROP],
  ['x-forwarded-host', DROP],
  ['x-request-id', DROP],
]);

/** Response header names (lower case) never sent downstream. */
const RESPONSE_DROP = new Set([
  'connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

export interface UpstreamHeaderInput {
  /** The request's raw headers ([name, value, …], pseudo-headers included for HTTP/2). */
  rawHeaders: string[];
  /** The request's Connection header, if any. */
  connection: string | undefined;
  host: string;
  authority: string;
  scheme: string;
  clientAddress: string;
  requestId: string;
  /** Keep `te: trailers` (HTTP/2 upstreams: gRPC needs it). */
  teTrailers: boolean;
}

export function hasMutation(m: HeaderMutation | undefined): m is HeaderMutation {
  return m !== undefined && (m.add.length > 0 || m.remove.length > 0);
}

/** The headers sent upstream. */
export function upstreamHeaders(
  i: UpstreamHeaderInput,
  routeMutation: HeaderMutation | undefined,
  targetMutation: HeaderMutation | undefined,
): FlatHeaders | HeaderBag {
  const raw = i.rawHeaders;
  const named = i.connection === undefined ? undefined : connectionTokens(i.connection);
  const out: FlatHeaders = [];
  let xff: string | undefined;
  for (let n = 0; n < raw.length; n += 2) {
    const name = raw[n]!;
    const lc = name.toLowerCase();
    const kind = REQUEST_NAMES.get(lc);
    if (kind !== undefined) {
      if (kind === XFF) xff = xff === undefined ? raw[n + 1]! : `${xff}, ${raw[n + 1]!}`;
      else if (kind === TE && i.teTrailers && raw[n + 1]!.trim().toLowerCase() === 'trailers')
        out.push(name, raw[n + 1]!);
      continue;
    }
    if (lc.charCodeAt(0) === 58 /* : */ || lc.startsWith('proxy-')) continue;
    if (named !== undefined && named.has(lc)) continue;
    out.push(name, raw[n + 1]!);
  }
  out.push(
    'host',
    i.host,
    'x-forwarded-for',
    xff === undefined ? i.clientAddress : `${xff}, ${i.clientAddress}`,
    'x-forwarded-proto',
    i.scheme,
    'x-forwarded-host',
    i.authority,
    'x-request-id',
    i.requestId,
  );
  return mutate(out, routeMutation, targetMutation, i.clientAddress);
}

/** The upstream's response headers as they go downstream. */
export function downstreamHeaders(
  raw: (Buffer | string)[],
  routeMutation: HeaderMutation | undefined,
  targetMutation: HeaderMutation | undefined,
  clientAddress: string,
): FlatHeaders | HeaderBag {
  let out: FlatHeaders = [];
  let named: Set<string> | undefined;
  for (let n = 0; n < raw.length; n += 2) {
    const name = latin1(raw[n]!);
    const lc = name.toLowerCase();
    if (RESPONSE_DROP.has(lc) || lc.startsWith('proxy-')) {
      if (lc === 'connection') named = connectionTokens(latin1(raw[n + 1]!));
      continue;
    }
    out.push(name, latin1(raw[n + 1]!));
  }
  if (named !== undefined) out = withoutNamed(out, named);
  return mutate(out, routeMutation, targetMutation, clientAddress);
}

/** The handshake response of an upgrade, as raw HTTP/1.1 (nothing is filtered: it is the handshake). */
export function switchingProtocolsHead(raw: (Buffer | string)[]): string {
  let head = 'HTTP/1.1 101 Switching Protocols\r\n';
  for (let n = 0; n < raw.length; n += 2) head += `${latin1(raw[n]!)}: ${latin1(raw[n + 1]!)}\r\n`;
  return `${head}\r\n`;
}

/** A copy of upstream headers with Host replaced (mirrors: `<host>-shadow`). */
export function withHost(h: FlatHeaders | HeaderBag, host: string): FlatHeaders | HeaderBag {
  if (!Array.isArray(h)) return { ...h, host };
  const out = h.slice();
  for (let n = 0; n < out.length; n += 2) {
    if (out[n] === 'host') {
      out[n + 1] = host;
      return out;
    }
  }
  out.push('host', host);
  return out;
}

/**
 * Envoy evaluates header mutations from the most specific level to the least
 * (weighted cluster, then route), so where both set a header the route's
 * value is the one that stays.
 */
function mutate(
  out: FlatHeaders,
  route: HeaderMutation | undefined,
  target: HeaderMutation | undefined,
  clientAddress: string,
): FlatHeaders | HeaderBag {
  const mr = hasMutation(route);
  const mt = hasMutation(target);
  if (!mr && !mt) return out;
  const bag = toBag(out);
  if (mt) applyMutation(bag, target, clientAddress);
  if (mr) applyMutation(bag, route, clientAddress);
  return bag;
}

/** Names listed in Connection, beyond the ones that are dropped anyway. */
function connectionTokens(value: string): Set<string> | undefined {
  const v = value.toLowerCase();
  if (v === 'keep-alive' || v === 'close' || v === 'upgrade') return undefined;
  let out: Set<string> | undefined;
  for (const t of v.split(',')) {
    const name = t.trim();
    if (name === '' || name === 'close' || name === 'keep-alive' || name === 'upgrade') continue;
    (out ??= new Set()).add(name);
  }
  return out;
}

function withoutNamed(h: FlatHeaders, named: Set<string>): FlatHeaders {
  const out: FlatHeaders = [];
  for (let n = 0; n < h.length; n += 2)
    if (!named.has(h[n]!.toLowerCase())) out.push(h[n]!, h[n + 1]!);
  return out;
}

function toBag(flat: FlatHeaders): HeaderBag {
  const bag: HeaderBag = {};
  for (let n = 0; n < flat.length; n += 2) {
    const k = flat[n]!.toLowerCase();
    const v = flat[n + 1]!;
    const prev = bag[k];
    if (prev === undefined) bag[k] = v;
    else if (Array.isArray(prev)) prev.push(v);
    else bag[k] = [prev, v];
  }
  return bag;
}

function latin1(b: Buffer | string): string {
  return typeof b === 'string' ? b : b.toString('latin1');
}
