// Test backends: real HTTP servers on loopback that answer with what they
// received, in the shape of the conformance echo backend.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';

export interface EchoBackend {
  name: string;
  port: number;
  server: Server;
  requests: { method: string; path: string; headers: IncomingMessage['headers'] }[];
  close: () => Promise<void>;
}

export async function echoBackend(name: string, host = '127.0.0.1'): Promise<EchoBackend> {
  const requests: EchoBackend['requests'] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers });
      const url = new URL(req.url ?? '/', 'http://x');
      const status = Number(url.searchParams.get('status') ?? 200);
      const delay = Number(url.searchParams.get('delayMs') ?? 0);
      const body = JSON.stringify({
        path: req.url,
        host: req.headers.host,
        method: req.method,
        headers: req.headers,
        pod: name,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      setTimeout(() => {
        res.writeHead(status, { 'content-type': 'application/json', 'x-backend': name });
        res.end(body);
      }, delay);
    });
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  const port = (server.address() as { port: number }).port;
  return {
    name,
    port,
    server,
    requests,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}
