// Requests in flight, and what draining does to their connections. Closing
// the listening sockets stops new connections, but a keep-alive HTTP/1.1
// connection or an HTTP/2 session would stay open (and take new requests)
// until its idle timeout. While draining, as Envoy does: HTTP/1.1 responses
// carry `connection: close` (or the connection is ended right after a
// response whose headers already went out), and HTTP/2 sessions get a
// GOAWAY so their open streams finish and no new one starts.
import type { Http2ServerRequest } from 'node:http2';
import type { DownstreamRequest, DownstreamResponse } from './runtime/forward.js';

export class InFlight {
  private readonly active = new Map<DownstreamResponse, DownstreamRequest>();
  private draining = false;

  get size(): number {
    return this.active.size;
  }

  track(req: DownstreamRequest, res: DownstreamResponse): void {
    this.active.set(res, req);
    res.once('close', () => this.active.delete(res));
    if (this.draining) closeAfter(req, res);
  }

  /** From now on every connection closes once its current response is done. */
  drain(): void {
    this.draining = true;
    for (const [res, req] of this.active) closeAfter(req, res);
  }
}

function closeAfter(req: DownstreamRequest, res: DownstreamResponse): void {
  const session = (req as Http2ServerRequest).stream?.session;
  if (session) {
    if (!session.closed) session.close(); // GOAWAY; streams in progress complete
    return;
  }
  if (!res.headersSent) {
    res.setHeader('connection', 'close');
    return;
  }
  res.once('finish', () => req.socket.end());
}
