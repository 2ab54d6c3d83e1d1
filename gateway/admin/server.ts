// The admin listener (loopback by default): /ready, /healthz, /config_dump
// and /stats. Never exposed by the gateway's Service. The same listener
// serves a single gateway process and the primary of worker-per-core mode,
// which answers from its workers' state.
import { createServer, type Server } from 'node:http';

export interface AdminSource {
  /** A complete configuration is applied (every worker's, in worker mode). */
  ready: () => boolean;
  draining: () => boolean;
  configDump: () => unknown;
  /** Prometheus text exposition. */
  stats: () => Promise<{ contentType: string; body: string }>;
}

export function startAdmin(address: string, port: number, src: AdminSource): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, type: string, body: string) => {
      if (res.headersSent) return;
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return send(405, 'text/plain', 'method not allowed\n');
    }
    const fail = (e: unknown) => send(500, 'text/plain', `${(e as Error).message}\n`);
    switch (path) {
      case '/ready':
        if (src.draining()) return send(503, 'text/plain', 'draining\n');
        return src.ready()
          ? send(200, 'text/plain', 'ready\n')
          : send(503, 'text/plain', 'no complete configuration yet\n');
      case '/healthz':
        return send(200, 'text/plain', 'ok\n');
      case '/config_dump':
        Promise.resolve()
          .then(src.configDump)
          .then((d) => send(200, 'application/json', `${JSON.stringify(d, null, 2)}\n`), fail);
        return;
      case '/stats':
        src.stats().then((m) => send(200, m.contentType, m.body), fail);
        return;
      default:
        return send(404, 'text/plain', 'not found\n');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
