// Backends for the forwarding tests: HTTP/1.1 servers that count the
// connections they accept, raw TCP servers that misbehave on purpose, and
// HTTP/2 cleartext servers.
import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import {
  createServer as createH2cServer,
  type Http2Server,
  type Http2ServerRequest,
  type Http2ServerResponse,
} from 'node:http2';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';

export interface TestBackend {
  port: number;
  /** Connections accepted so far. */
  connections: number;
  close: () => Promise<void>;
}

export interface HttpBackend extends TestBackend {
  server: Server;
  requests: IncomingMessage[];
}

/** An HTTP/1.1 backend; `handler` answers (default: 200 with the request's headers as JSON). */
export async function httpBackend(handler?: RequestListener): Promise<HttpBackend> {
  const requests: IncomingMessage[] = [];
  const answer: RequestListener =
    handler ??
    ((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ headers: req.headers, rawHeaders: req.rawHeaders }));
      });
    });
  const server = createServer((req, res) => {
    requests.push(req);
    answer(req, res);
  });
  server.keepAliveTimeout = 60_000;
  const b: HttpBackend = {
    port: 0,
    connections: 0,
    server,
    requests,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
  server.on('connection', () => b.connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  b.port = (server.address() as { port: number }).port;
  return b;
}

/** A TCP server that hands each connection to `onSocket` (for broken upstreams). */
export async function rawBackend(onSocket: (s: Socket) => void): Promise<TestBackend> {
  const sockets = new Set<Socket>();
  const server: NetServer = createNetServer((s) => {
    b.connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    onSocket(s);
  });
  const b: TestBackend = {
    port: 0,
    connections: 0,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  b.port = (server.address() as { port: number }).port;
  return b;
}

/** Resolves once a whole request head has arrived on a raw socket. */
export function readHead(s: Socket): Promise<string> {
  return new Promise((resolve) => {
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end >= 0) {
        s.off('data', onData);
        resolve(buf.slice(0, end));
      }
    };
    s.on('data', onData);
  });
}

export interface H2cBackend extends TestBackend {
  requests: {
    httpVersion: string;
    method: string;
    path: string;
    headers: Http2ServerRequest['headers'];
  }[];
}

/** An HTTP/2 server without TLS (prior knowledge), answering `handler` (default: 200 "h2c ok"). */
export async function h2cBackend(
  handler?: (req: Http2ServerRequest, res: Http2ServerResponse) => void,
): Promise<H2cBackend> {
  const server: Http2Server = createH2cServer((req, res) => {
    b.requests.push({
      httpVersion: req.httpVersion,
      method: req.method,
      path: req.url,
      headers: req.headers,
    });
    if (handler) return handler(req, res);
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain', 'x-h2c': 'yes' });
      res.end(`h2c ok ${req.httpVersion}`);
    });
  });
  const b: H2cBackend = {
    port: 0,
    connections: 0,
    requests: [],
    close: () => new Promise((r) => server.close(() => r())),
  };
  server.on('connection', () => b.connections++);
  server.on('session', (s) => server.once('close', () => s.destroy()));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  b.port = (server.address() as { port: number }).port;
  return b;
}

/** Answers after `ms` (for timeouts). */
export function delayed(ms: number, body = 'late'): RequestListener {
  return (req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    const t = setTimeout(() => res.end(body), ms);
    res.on('close', () => clearTimeout(t));
  };
}
