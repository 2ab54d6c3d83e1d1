// The controller's admin API (standalone mode): statuses live in memory and
// are read here; `gatefleet status` is its client.
//   GET /status       every GatewayClass, Gateway and HTTPRoute with its status, and input diagnostics
//   GET /fleet        node groups: snapshot version, local processes, connected gateways, ACKs, NACKs
//   GET /metrics      Prometheus (xDS server and controller)
//   GET /ready        200 once the first translation is published
//   GET /healthz      200
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export interface AdminData {
  ready: () => boolean;
  status: () => unknown;
  fleet: () => unknown;
  registry: Registry;
}

export function startAdminApi(host: string, port: number, data: AdminData): Promise<Server> {
  const server = createServer((req, res) => {
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    const json = (v: unknown) => send(200, 'application/json', `${JSON.stringify(v, null, 2)}\n`);
    if (req.method !== 'GET') return send(405, 'text/plain', 'GET only\n');
    switch ((req.url ?? '/').split('?')[0]) {
      case '/status':
        return json(data.status());
      case '/fleet':
        return json(data.fleet());
      case '/ready':
        return data.ready()
          ? send(200, 'text/plain', 'ready\n')
          : send(503, 'text/plain', 'not translated yet\n');
      case '/healthz':
        return send(200, 'text/plain', 'ok\n');
      case '/metrics':
        data.registry.metrics().then(
          (m) => send(200, data.registry.contentType, m),
          (e: Error) => send(500, 'text/plain', e.message),
        );
        return;
      default:
        return send(404, 'text/plain', 'not found\n');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
