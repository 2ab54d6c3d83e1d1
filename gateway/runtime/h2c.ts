// HTTP/2 over cleartext with prior knowledge (RFC 9113 §3.3) on plain
// listeners, as Envoy's HTTP connection manager accepts it (codec AUTO): a
// connection whose first bytes are the HTTP/2 connection preface is served
// by an HTTP/2 session, any other by the HTTP/1.1 server as before. (The
// deprecated h2c Upgrade mechanism is not offered.)
//
// Node's HTTP/2 session reads from the socket's native handle, which would
// skip the bytes read to recognise the preface, so the session gets a duplex
// stream that replays them first; the client's address is carried over.
import type { Server as HttpServer } from 'node:http';
import type { Http2Server, ServerHttp2Session } from 'node:http2';
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

function replaying(sock: Socket, head: Buffer): Duplex {
  const d = new Duplex({
    read() {
      sock.resume();
    },
    write(chunk: Buffer, _enc, cb) {
      sock.write(chunk, cb);
    },
    final(cb) {
      sock.end();
      cb();
    },
    destroy(err, cb) {
      sock.destroy();
      cb(err);
    },
  });
  d.push(head);
  sock.on('data', (c: Buffer) => {
    if (!d.push(c)) sock.pause();
  });
  sock.on('end', () => d.push(null));
  sock.on('close', () => d.destroy());
  sock.on('error', (e) => d.destroy(e));
  return d;
}

/**
 * Makes `server` (a plain HTTP/1.1 server, before it listens) hand
 * connections that start with the HTTP/2 preface to `h2`. A connection that
 * sends nothing within `sniffTimeoutMs` is closed.
 */
export function acceptPriorKnowledge(
  server: HttpServer,
  h2: Http2Server,
  sniffTimeoutMs: number,
): void {
  const http1 = server.listeners('connection') as ((s: Socket) => void)[];
  server.removeAllListeners('connection');
  let peer: { address?: string; port?: number; family?: string } | undefined;
  h2.on('session', (session: ServerHttp2Session) => {
    // The session's socket wraps the replaying stream, which has no peer of its own.
    if (peer) Object.assign(session.socket, { _peername: peer });
  });
  server.on('connection', (sock: Socket) => {
    let head: Buffer = Buffer.alloc(0);
    const timer = setTimeout(() => sock.destroy(), sniffTimeoutMs);
    const onData = (chunk: Buffer) => {
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      const n = Math.min(head.length, PREFACE.length);
      const h2c = head.subarray(0, n).equals(PREFACE.subarray(0, n));
      if (h2c && head.length < PREFACE.length) return;
      clearTimeout(timer);
      sock.off('data', onData);
      sock.off('close', onClose);
      sock.pause();
      if (h2c) {
        peer = { address: sock.remoteAddress, port: sock.remotePort, family: sock.remoteFamily };
        h2.emit('connection', replaying(sock, head));
        peer = undefined;
        return;
      }
      sock.unshift(head);
      for (const l of http1) l.call(server, sock);
      sock.resume();
    };
    const onClose = () => clearTimeout(timer);
    sock.on('data', onData);
    sock.once('close', onClose);
  });
}
