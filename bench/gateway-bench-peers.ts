// The peers (nginx and HAProxy, from Debian's packages) and the backend: their
// versions and configurations, all serving the benchmarked route.
import { spawnSync } from 'node:child_process';
import { BODY, HOST, PATH } from './gateway-bench-settings.js';

export function nginxVersion(): string {
  const r = spawnSync('nginx', ['-v'], { encoding: 'utf8' });
  return /nginx\/(\S+)/.exec(r.stderr)?.[1] ?? '?';
}

export function haproxyVersion(): string {
  const r = spawnSync('haproxy', ['-v'], { encoding: 'utf8' });
  return /version (\d+\.\d+\.\d+)/.exec(r.stdout)?.[1] ?? '?';
}

function nginxCommon(dir: string): string {
  return `daemon off;
master_process on;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
`;
}

function nginxTemps(dir: string): string {
  return ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((t) => `  ${t}_temp_path ${dir}/${t};`)
    .join('\n');
}

/** The backend: nginx, one worker, a fixed 64-byte body. */
export function nginxBackendConfig(dir: string, port: number): string {
  return `${nginxCommon(dir)}http {
  access_log off;
${nginxTemps(dir)}
  default_type text/plain;
  keepalive_requests 10000000;
  keepalive_timeout 120s;
  server {
    listen 127.0.0.1:${port} reuseport backlog=4096;
    location / { return 200 "${BODY.trimEnd()}\\n"; }
  }
}
`;
}

/**
 * nginx as the peer: one worker, upstream keep-alive, the same route, and
 * the headers gatefleet adds (Host kept, X-Forwarded-For/-Proto, X-Request-Id).
 */
export function nginxProxyConfig(dir: string, port: number, backendPort: number): string {
  return `${nginxCommon(dir)}http {
  access_log off;
${nginxTemps(dir)}
  keepalive_requests 10000000;
  keepalive_timeout 120s;
  upstream bench_backend {
    server 127.0.0.1:${backendPort};
    keepalive 128;
    keepalive_requests 10000000;
    keepalive_timeout 120s;
  }
  server {
    listen 127.0.0.1:${port} default_server backlog=4096;
    return 404;
  }
  server {
    listen 127.0.0.1:${port};
    server_name ${HOST};
    location ${PATH} {
      proxy_pass http://bench_backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Request-Id $request_id;
    }
  }
}
`;
}

/** HAProxy as the peer: nbthread 1, http mode, http-reuse, the same route and headers. */
export function haproxyConfig(port: number, backendPort: number): string {
  return `global
  nbthread 1
  maxconn 4000

defaults
  mode http
  timeout connect 5s
  timeout client 120s
  timeout server 120s
  timeout http-keep-alive 120s
  option forwardfor
  http-reuse always

frontend bench
  bind 127.0.0.1:${port}
  unique-id-format %{+X}o%ci:%cp_%fi:%fp_%Ts_%rt:%pid
  http-request deny deny_status 404 unless { req.hdr(host),field(1,:) -i ${HOST} } { path_beg ${PATH} }
  http-request set-header X-Forwarded-Proto http
  http-request set-header X-Request-Id %[unique-id]
  default_backend bench_backend

backend bench_backend
  server backend 127.0.0.1:${backendPort}
`;
}

/** The fallback backend when nginx is not available: a minimal Node HTTP server. */
export const NODE_BACKEND = `
const http = require('node:http');
const body = Buffer.from(${JSON.stringify(BODY)});
const s = http.createServer((req, res) => {
  req.resume();
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
  res.end(body);
});
s.keepAliveTimeout = 120000;
s.listen(Number(process.argv[1]), '127.0.0.1');
`;
