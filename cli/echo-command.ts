// `gatefleet echo`: a test backend answering every request with what it
// received, as JSON in the shape of the Gateway API conformance echo backend
// (`path`, `host`, `method`, `proto`, `headers`, `namespace`, `ingress`,
// `service`, `pod`, `httpPort`), configured by the same environment variables
// (HTTP_PORT, NAMESPACE, POD_NAME, SERVICE_NAME, INGRESS_NAME) or flags.
// Like it: /health answers OK, /status/NNN answers NNN, `?delay=1s` delays the
// answer, and `X-Echo-Set-Header: name:value,...` sets response headers.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { parseArgs } from 'node:util';
import { parseDuration } from '../controller/translator/durations.js';

export const ECHO_USAGE = `Usage: gatefleet echo [--port <n>] [--host <addr>] [--pod <name>] [--namespace <ns>]

A test backend that answers with the request it received, as JSON, in the
shape of the Gateway API conformance echo backend.

  --port <n>         port (HTTP_PORT; default 3000)
  --host <addr>      address to listen on (default 127.0.0.1)
  --pod <name>       "pod" in answers (POD_NAME; default the host name)
  --namespace <ns>   "namespace" in answers (NAMESPACE; default "default")
`;

/** Go's canonical header name form (content-type → Content-Type), as echo-basic reports names. */
function canonical(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_, d: string, c: string) => d + c.toUpperCase());
}

export interface EchoOptions {
  port: number;
  host: string;
  pod: string;
  namespace: string;
  service?: string;
  ingress?: string;
}

export function echoBody(req: IncomingMessage, o: EchoOptions): Record<string, unknown> {
  const headers: Record<string, string[]> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = canonical(req.rawHeaders[i]!.toLowerCase());
    if (name === 'Host') continue;
    (headers[name] ??= []).push(req.rawHeaders[i + 1]!);
  }
  return {
    path: req.url,
    host: req.headers.host ?? '',
    method: req.method,
    proto: `HTTP/${req.httpVersion}`,
    headers,
    namespace: o.namespace,
    ingress: o.ingress ?? '',
    service: o.service ?? '',
    pod: o.pod,
    httpPort: String(o.port),
  };
}

export function startEcho(o: EchoOptions): Promise<Server> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://echo');
    req.resume();
    req.on('end', () => {
      if (url.pathname === '/health') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        return void res.end('OK');
      }
      const status = /^\/status\/(\d{3})$/.exec(url.pathname);
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'x-content-type-options': 'nosniff',
      };
      for (const pair of String(req.headers['x-echo-set-header'] ?? '').split(',')) {
        const i = pair.indexOf(':');
        if (i > 0) headers[pair.slice(0, i).trim()] = pair.slice(i + 1).trim();
      }
      const delay = parseDuration(url.searchParams.get('delay') ?? '') ?? 0;
      setTimeout(() => {
        res.writeHead(status ? Number(status[1]) : 200, headers);
        res.end(JSON.stringify(echoBody(req, o)));
      }, delay);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve(server));
  });
}

export function parseEchoArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): EchoOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      pod: { type: 'string' },
      namespace: { type: 'string' },
    },
    strict: true,
  });
  return {
    port: Number(values.port ?? env.HTTP_PORT ?? 3000),
    host: values.host ?? '127.0.0.1',
    pod: values.pod ?? env.POD_NAME ?? (env.HOSTNAME || 'echo'),
    namespace: values.namespace ?? env.NAMESPACE ?? 'default',
    ...(env.SERVICE_NAME ? { service: env.SERVICE_NAME } : {}),
    ...(env.INGRESS_NAME ? { ingress: env.INGRESS_NAME } : {}),
  };
}
