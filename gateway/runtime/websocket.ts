// WebSocket upgrades (HTTP/1.1 Upgrade: websocket). Node hands an upgrade
// request to the server's 'upgrade' listener with the raw socket instead of
// a response; `upgradeResponse` wraps that socket in an ordinary
// ServerResponse so the request goes through the same handler as any other
// (routing, local replies, CORS), and marks the request so forward() knows
// it may take the socket over. On a route whose backend is not a WebSocket
// backend (kubernetes.io/ws), or for an upgrade to anything but a WebSocket,
// the upgrade is refused with 403, as Envoy does (an h2c upgrade is served
// as a plain request, as Envoy's codec does).
// Otherwise the upgrade is sent upstream; a 101 answer is relayed and the two
// sockets are spliced, any other answer is relayed as a response and the
// connection closed. The route timeout applies until the upgrade completes,
// not to the WebSocket after it.
import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { switchingProtocolsHead } from './forward-headers.js';
import type { DownstreamRequest } from './forward.js';

export interface UpgradeInfo {
  socket: Duplex;
  /** Bytes the client sent after the request's headers. */
  head: Buffer;
}

const kUpgrade = Symbol('gatefleet.upgrade');

type Marked = DownstreamRequest & { [kUpgrade]?: UpgradeInfo };

/**
 * For the HTTP/1.1 server's 'upgrade' event: a response over the raw socket
 * for `handle(listener, req, res)`. The connection is closed after a
 * response that does not upgrade it (the HTTP parser is gone).
 */
export function upgradeResponse(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): ServerResponse {
  (req as Marked)[kUpgrade] = { socket, head };
  const res = new ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket as Socket);
  res.once('finish', () => socket.end());
  socket.on('error', () => socket.destroy());
  return res;
}

/** The upgrade a request asks for, when it came through `upgradeResponse`. */
export function upgradeOf(req: DownstreamRequest): UpgradeInfo | undefined {
  return (req as Marked)[kUpgrade];
}

/**
 * What an upgrade request asks for: a WebSocket, h2c (which Envoy's codec
 * strips, serving the request as a plain one), or anything else (refused).
 */
export function upgradeKind(req: DownstreamRequest): 'websocket' | 'h2c' | 'other' {
  const u = String(req.headers.upgrade ?? '').toLowerCase();
  return u === 'websocket' ? 'websocket' : u === 'h2c' ? 'h2c' : 'other';
}

/** The upstream switched protocols: relay its 101 and join the two sockets. */
export function splice(
  info: UpgradeInfo,
  res: ServerResponse,
  rawHeaders: (Buffer | string)[],
  upstream: Duplex,
): void {
  const down = info.socket;
  res.detachSocket(down as Socket);
  // Either side's end ends the other, then both are torn down: a peer that
  // keeps its half open (Node's HTTP servers allow that) cannot keep a
  // spliced pair alive.
  const close = () => {
    down.destroy();
    upstream.destroy();
  };
  down.on('close', close);
  upstream.on('close', close);
  upstream.on('error', close);
  down.once('end', () => upstream.end(close));
  upstream.once('end', () => down.end(close));
  down.write(switchingProtocolsHead(rawHeaders));
  if (info.head.length > 0) upstream.write(info.head);
  upstream.pipe(down, { end: false });
  down.pipe(upstream, { end: false });
}
