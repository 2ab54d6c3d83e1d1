// The admin listener (loopback by default): /ready, /healthz, /config_dump
// and /stats. Never exposed by the gateway's Service.
import { createServer, type Server } from 'node:http';
import type { GatewayMetrics } from '../metrics.js';

export interface AdminSource {
  ready: () => boolean;
  draining: () => boolean;
  configDump: () => unknown;
  metrics: GatewayMetrics;
}

export function startAdmin(address: string, port: number, src: AdminSource): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    switch (path) {
      case '/ready':
        if (src.draining()) return send(503, 'text/plain', 'draining\n');
        return src.ready()
          ? send(200, 'text/plain', 'ready\n')
          : send(503, 'text/plain', 'no complete configuration yet\n');
      case '/healthz':
        return send(200, 'text/plain', 'ok\n');
      case '/config_dump':
        return send(200, 'application/json', `${JSON.stringify(src.configDump(), null, 2)}\n`);
      case '/stats':
        src.metrics.registry
          .metrics()
          .then((m) => send(200, src.metrics.registry.contentType, m))
          .catch((e: Error) => send(500, 'text/plain', e.message));
        return;
      default:
        return send(404, 'text/plain', 'not found\n');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => resolve(server));
  });
}
