// h2c upstreams through a real gateway: a backend Service whose port has
// appProtocol kubernetes.io/h2c is spoken to in HTTP/2 without TLS (prior
// knowledge), requests multiplexed on one connection, bodies both ways.
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
});
