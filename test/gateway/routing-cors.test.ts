// CORS end to end: a preflight from an allowed origin is answered by the
// gateway; the actual request gets Access-Control-Allow-Origin (and
// credentials, exposed headers) on the backend's response; an origin not
// allowed gets no CORS header at all, its preflight going on to the backend
// like any request. With credentials, `*` in methods or headers is never
// sent: the preflight's own values are echoed (Gateway API).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoBackend, freePort, type EchoBackend } from '../support/backends.js';
import { startFleet, type Fleet } from '../support/gateway-fleet.js';
import { httpGet, type HttpResult } from '../support/http.js';
import { gateway, gatewayClass, httpListener, route, service } from '../support/k8s.js';

type Obj = Record<string, unknown>;

const withCors = (hostname: string, cors: Obj): Obj =>
  route(hostname.split('.')[0]!, {
    parentRefs: [{ name: 'gw' }],
    hostnames: [hostname],
    rules: [{ filters: [{ type: 'CORS', cors }], backendRefs: [{ name: 'svc', port: 80 }] }],
  });

const CORS_HEADERS = [
  'access-control-allow-origin',
  'access-control-allow-credentials',
  'access-control-allow-methods',
  'access-control-allow-headers',
  'access-control-expose-headers',
  'access-control-max-age',
];

function corsHeaders(r: HttpResult): Record<string, string> {
  return Object.fromEntries(
    CORS_HEADERS.filter((h) => r.headers[h] !== undefined).map((h) => [h, String(r.headers[h])]),
  );
}

describe('routing: CORS', () => {
  let backend: EchoBackend;
  let fleet: Fleet;
  let port: number;

  beforeAll(async () => {
    backend = await echoBackend('svc');
    port = await freePort();
    fleet = await startFleet([
      gatewayClass(),
      gateway('gw', [httpListener(port)]),
      ...service('svc', [backend.port]),
      withCors('cors.test', {
        allowOrigins: ['https://app.example', 'https://*.wild.example'],
        allowMethods: ['GET', 'PUT'],
        allowHeaders: ['x-custom', 'x-other'],
        exposeHeaders: ['x-exposed'],
        maxAge: 600,
      }),
      withCors('credentials.test', {
        allowOrigins: ['*'],
        allowMethods: ['*'],
        allowHeaders: ['*'],
        allowCredentials: true,
      }),
    ]);
  });

  afterAll(async () => {
    await fleet?.close();
    await backend?.close();
  });

  const preflight = (host: string, origin: string, extra: Record<string, string> = {}) =>
    httpGet(port, '/resource', host, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'PUT', ...extra },
    });

  it('answers a preflight from an allowed origin itself', async () => {
    const before = backend.requests.length;
    const r = await preflight('cors.test', 'https://app.example', {
      'access-control-request-headers': 'x-custom',
    });
    expect(r.status).toBe(200);
    expect(corsHeaders(r)).toEqual({
      'access-control-allow-origin': 'https://app.example',
      'access-control-allow-methods': 'GET, PUT',
      'access-control-allow-headers': 'x-custom, x-other',
      'access-control-expose-headers': 'x-exposed',
      'access-control-max-age': '600',
    });
    expect(backend.requests.length).toBe(before);
  });

  it('matches wildcard origins on whole labels of the host', async () => {
    const r = await preflight('cors.test', 'https://a.b.wild.example');
    expect(r.headers['access-control-allow-origin']).toBe('https://a.b.wild.example');
    const other = await preflight('cors.test', 'https://wild.example.evil.test');
    expect(corsHeaders(other)).toEqual({});
    const scheme = await preflight('cors.test', 'http://app.example');
    expect(corsHeaders(scheme)).toEqual({});
  });

  it('adds allow-origin and exposed headers to the actual response of an allowed origin', async () => {
    const r = await httpGet(port, '/resource', 'cors.test', {
      headers: { origin: 'https://app.example' },
    });
    expect(r.status).toBe(200);
    expect((JSON.parse(r.body) as { path: string }).path).toBe('/resource');
    expect(corsHeaders(r)).toEqual({
      'access-control-allow-origin': 'https://app.example',
      'access-control-expose-headers': 'x-exposed',
    });
  });

  it('gives an origin that is not allowed no CORS headers; its preflight never reaches the backend', async () => {
    const before = backend.requests.length;
    const p = await preflight('cors.test', 'https://evil.example');
    expect(p.status).toBe(200);
    expect(corsHeaders(p)).toEqual({});
    expect(backend.requests.length).toBe(before);
    const r = await httpGet(port, '/resource', 'cors.test', {
      headers: { origin: 'https://evil.example' },
    });
    expect(r.status).toBe(200);
    expect(corsHeaders(r)).toEqual({});
  });

  it('adds nothing to requests without an Origin', async () => {
    const r = await httpGet(port, '/resource', 'cors.test');
    expect(r.status).toBe(200);
    expect(corsHeaders(r)).toEqual({});
  });

  it('echoes the request instead of sending * when credentials are allowed', async () => {
    const r = await preflight('credentials.test', 'https://any.example', {
      'access-control-request-headers': 'x-a, x-b',
    });
    expect(r.status).toBe(200);
    expect(corsHeaders(r)).toEqual({
      'access-control-allow-origin': 'https://any.example',
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'PUT',
      'access-control-allow-headers': 'x-a, x-b',
      'access-control-max-age': '5',
    });
    const noHeaders = await preflight('credentials.test', 'https://any.example');
    expect(noHeaders.headers['access-control-allow-headers']).toBeUndefined();
    const actual = await httpGet(port, '/resource', 'credentials.test', {
      headers: { origin: 'https://any.example' },
    });
    expect(corsHeaders(actual)).toEqual({
      'access-control-allow-origin': 'https://any.example',
      'access-control-allow-credentials': 'true',
    });
  });
});
