// Size limits end to end: a request header section over the limit (60 KiB)
// or with too many headers (100) answers 431, on plain HTTP and HTTP/1.1
// over TLS; a Content-Length over the body limit (1 GiB) answers 413 before
// any of the body is read, and the backend never sees the request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoBackend, freePort, type EchoBackend } from '../support/backends.js';
import { startFleet, type Fleet } from '../support/gateway-fleet.js';
import { httpGet } from '../support/http.js';
import { gateway, gatewayClass, httpListener, route, service } from '../support/k8s.js';
import { rawExchange } from '../support/raw-http.js';
import {
  httpsListener,
  selfSignedCertificate,
  tlsSecret,
  type TestCertificate,
} from '../support/tls-certs.js';

const HOST = 'limits.test';

/** A request the gateway answers itself (a redirect): the backend's own limits play no part. */
function request(headers: string[], extra = ''): string {
  return `GET /redirect HTTP/1.1\r\nHost: ${HOST}\r\n${headers.map((h) => `${h}\r\n`).join('')}Connection: close\r\n\r\n${extra}`;
}

const numbered = (n: number) => Array.from({ length: n }, (_, i) => `x-h-${i}: v`);

describe('safety: header and body size limits', () => {
  let backend: EchoBackend;
  let fleet: Fleet;
  let port: number;
  let tlsPort: number;
  let cert: TestCertificate;

  beforeAll(async () => {
    backend = await echoBackend('svc');
    port = await freePort();
    tlsPort = await freePort();
    cert = selfSignedCertificate([HOST]);
    fleet = await startFleet([
      gatewayClass(),
      gateway('gw', [httpListener(port), httpsListener(tlsPort, 'https', HOST, 'cert')]),
      tlsSecret('cert', cert),
      ...service('svc', [backend.port]),
      route('r', {
        parentRefs: [{ name: 'gw' }],
        rules: [
          {
            matches: [{ path: { value: '/redirect' } }],
            filters: [{ type: 'RequestRedirect', requestRedirect: { hostname: 'elsewhere.test' } }],
          },
          { backendRefs: [{ name: 'svc', port: 80 }] },
        ],
      }),
    ]);
  });

  afterAll(async () => {
    await fleet?.close();
    await backend?.close();
  });

  const both = (bytes: string) =>
    Promise.all([
      rawExchange(port, bytes),
      rawExchange(tlsPort, bytes, { tls: { servername: HOST, ca: cert.cert } }),
    ]);

  it('answers 431 past 60 KiB of request headers', async () => {
    for (const r of await both(request([`x-big: ${'a'.repeat(59 * 1024)}`]))) {
      expect(r.statuses).toEqual([302]);
    }
    for (const r of await both(request([`x-big: ${'a'.repeat(61 * 1024)}`]))) {
      expect(r.statuses).toEqual([431]);
    }
  });

  it('answers 431 past 100 request headers', async () => {
    // Host and Connection count: 98 more make 100.
    for (const r of await both(request(numbered(98)))) expect(r.statuses).toEqual([302]);
    for (const r of await both(request(numbered(99)))) expect(r.statuses).toEqual([431]);
    for (const r of await both(request(numbered(3000)))) expect(r.statuses).toEqual([431]);
  });

  it('answers 413 to a Content-Length over 1 GiB without reading the body', async () => {
    const from = backend.requests.length;
    const r = await rawExchange(
      port,
      `POST /upload HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: ${1024 * 1024 * 1024 + 1}\r\n\r\nsome of the body`,
    );
    expect(r.statuses).toEqual([413]);
    expect(r.closedByServer).toBe(true);
    const ok = await httpGet(port, '/upload', HOST, { method: 'POST', body: 'small' });
    expect(ok.status).toBe(200);
    expect(backend.requests.slice(from).map((q) => q.path)).toEqual(['/upload']);
  });
});
