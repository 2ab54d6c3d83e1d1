// The node's kubelet API, as much of it as the API server's `pods/log`
// subresource needs (kubectl logs; the conformance suite reads the echo
// backends' logs to see mirrored requests): HTTPS on the node address, port
// 10250, GET /containerLogs/<namespace>/<pod>/<container> with sinceTime,
// sinceSeconds, tailLines, limitBytes and timestamps. `follow` returns what
// there is and ends. The API server is started without
// --kubelet-certificate-authority, so a self-signed certificate does.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { join } from 'node:path';

export const KUBELET_PORT = 10250;

/** The log file of a container of a pod on this node, if there is one. */
export type LogLookup = (namespace: string, pod: string, container: string) => string | undefined;

function selfSigned(dir: string, address: string): { key: Buffer; cert: Buffer } {
  const key = join(dir, 'kubelet.key');
  const cert = join(dir, 'kubelet.crt');
  if (!existsSync(cert)) {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '30',
        '-subj',
        '/CN=gatefleet-local-kubelet',
        '-addext',
        `subjectAltName=IP:${address}`,
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
  }
  return { key: readFileSync(key), cert: readFileSync(cert) };
}

/** Lines of a timestamped log (`<RFC 3339> <stream> <text>`) as the kubelet returns them. */
export function selectLog(text: string, query: URLSearchParams, now = Date.now()): string {
  let lines = text.split('\n').filter(Boolean);
  const sinceTime = query.get('sinceTime');
  const sinceSeconds = query.get('sinceSeconds');
  const since = sinceTime
    ? Date.parse(sinceTime)
    : sinceSeconds
      ? now - Number(sinceSeconds) * 1000
      : undefined;
  if (since !== undefined && !Number.isNaN(since)) {
    lines = lines.filter((l) => Date.parse(l.slice(0, l.indexOf(' '))) >= since);
  }
  const tail = query.get('tailLines');
  if (tail !== null) lines = Number(tail) > 0 ? lines.slice(-Number(tail)) : [];
  const withTimes = query.get('timestamps') === 'true';
  let out = lines
    .map((l) => {
      const t = l.indexOf(' ');
      const rest = l.slice(l.indexOf(' ', t + 1) + 1);
      return withTimes ? `${l.slice(0, t)} ${rest}` : rest;
    })
    .join('\n');
  if (out) out += '\n';
  const limit = query.get('limitBytes');
  return limit !== null ? Buffer.from(out).subarray(0, Number(limit)).toString() : out;
}

export function startKubeletServer(dir: string, address: string, logs: LogLookup): Promise<Server> {
  const server = createServer(selfSigned(dir, address), (req, res) => {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const m = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (req.method !== 'GET' || !m) {
      res
        .writeHead(404, { 'content-type': 'text/plain' })
        .end('not served by the local node agent\n');
      return;
    }
    const [, ns, pod, container] = m.map(decodeURIComponent) as [string, string, string, string];
    const file = logs(ns, pod, container);
    if (!file || !existsSync(file)) {
      res
        .writeHead(404, { 'content-type': 'text/plain' })
        .end(`no logs of ${ns}/${pod}/${container}\n`);
      return;
    }
    res
      .writeHead(200, { 'content-type': 'text/plain' })
      .end(selectLog(readFileSync(file, 'utf8'), url.searchParams));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(KUBELET_PORT, address, () => resolve(server));
  });
}
