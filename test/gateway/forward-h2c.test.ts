// h2c upstreams through a real gateway: a backend Service whose port has
// appProtocol kubernetes.io/h2c is spoken to in HTTP/2 without TLS (prior
// knowledge), requests multiplexed on one connection, bodies both ways; and
// clients speaking HTTP/2 with prior knowledge to a plain listener (as the
// conformance suite's HTTPRouteBackendProtocolH2C test does).
import { connect as h2connect, type IncomingHttpHeaders } from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { h2cBackend, type H2cBackend } from '../support/forward-backends.js';
import { ForwardFixture, HOST } from '../support/forward-fixture.js';
import { route, service } from '../support/k8s.js';

describe('forwarding: h2c upstreams', () => {
  const fx = new ForwardFixture();
  let h2c: H2cBackend;

  beforeAll(async () => {
    h2c = await h2cBackend((req, res) => {
      let n = 0;
      req.on('data', (c: Buffer) => (n += c.length));
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/plain', 'x-h2c': req.httpVersion });
        res.end(`${req.method} ${req.url} over ${req.httpVersion}, ${n} bytes`);
      });
    });
    await fx.start([
      route('r', {
        parentRefs: [{ name: 'gw' }],
        hostnames: [HOST],
        rules: [{ backendRefs: [{ name: 'grpcish', port: 80 }] }],
      }),
      ...service('grpcish', [h2c.port], { appProtocol: 'kubernetes.io/h2c' }),
    ]);
  });

  afterAll(async () => {
    await fx.stop();
    await h2c.close();
  });

  it('speaks HTTP/2 cleartext to the backend and relays its answer', async () => {
    const r = await fx.get('/h2?x=1', { headers: { 'x-forwarded-for': '198.51.100.1' } });
    expect(r.status).toBe(200);
    expect(r.body).toBe('GET /h2?x=1 over 2.0, 0 bytes');
    expect(r.headers['x-h2c']).toBe('2.0');
    const seen = h2c.requests.at(-1)!;
    expect(seen.httpVersion).toBe('2.0');
    expect(seen.headers[':authority']).toBe(HOST);
    expect(seen.headers['x-forwarded-for']).toBe('198.51.100.1, 127.0.0.1');
  });

  it('streams request bodies to an h2c backend', async () => {
    const body = 'q'.repeat(3 * 1024 * 1024);
    const r = await fx.get('/upload', { method: 'POST', body });
    expect(r.status).toBe(200);
    expect(r.body).toBe(`POST /upload over 2.0, ${body.length} bytes`);
  });

  it('multiplexes concurrent requests over one connection', async () => {
    const before = h2c.connections;
    const all = await Promise.all(Array.from({ length: 30 }, (_, i) => fx.get(`/many/${i}`)));
    expect(all.map((r) => r.status)).toEqual(all.map(() => 200));
    expect(h2c.connections - before).toBe(0);
    expect(h2c.connections).toBe(1);
  });

  it('serves clients that speak HTTP/2 with prior knowledge on a plain listener', async () => {
    const session = h2connect(`http://127.0.0.1:${fx.port}`);
    try {
      const get = (path: string, body?: string) =>
        new Promise<{ headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
          const req = session.request({
            ':method': body === undefined ? 'GET' : 'POST',
            ':path': path,
            ':authority': HOST,
          });
          let text = '';
          let headers: IncomingHttpHeaders = {};
          req.on('response', (h) => (headers = h));
          req.on('data', (c: Buffer) => (text += c.toString()));
          req.on('end', () => resolve({ headers, body: text }));
          req.on('error', reject);
          req.end(body);
        });
      const [a, b] = await Promise.all([get('/pk/1'), get('/pk/2', 'x'.repeat(100_000))]);
      expect(a.headers[':status']).toBe(200);
      expect(a.body).toBe('GET /pk/1 over 2.0, 0 bytes');
      expect(b.body).toBe('POST /pk/2 over 2.0, 100000 bytes');
      // The client's address survives the hand-over to the HTTP/2 session.
      expect(h2c.requests.at(-1)!.headers['x-forwarded-for']).toBe('127.0.0.1');
      // HTTP/1.1 on the same listener is unaffected.
      expect((await fx.get('/h1')).body).toBe('GET /h1 over 2.0, 0 bytes');
    } finally {
      session.close();
    }
  });
});
