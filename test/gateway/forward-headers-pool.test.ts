// Forwarding basics through a real gateway process: upstream connections are
// kept alive and reused; X-Forwarded-For/-Proto/-Host and X-Request-Id are
// set as documented in gateway/runtime/forward-headers.ts; hop-by-hop
// headers are removed in both directions.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  httpBackend,
  rawBackend,
  readHead,
  type HttpBackend,
  type TestBackend,
} from '../support/forward-backends.js';
import { ForwardFixture } from '../support/forward-fixture.js';
import { route, service } from '../support/k8s.js';

describe('forwarding: pools and headers', () => {
  const fx = new ForwardFixture();
  let echo: HttpBackend;
  let hop: TestBackend;

  beforeAll(async () => {
    echo = await httpBackend((req, res) => {
      const status = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('status') ?? 200);
      req.resume();
      req.on('end', () => {
        if (status !== 200) {
          res.writeHead(status, { etag: '"v1"' });
          return void res.end();
        }
        const body = JSON.stringify({ headers: req.headers });
        res.writeHead(200, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        });
        res.end(req.method === 'HEAD' ? undefined : body);
      });
    });
    // Answers every request on a connection with hop-by-hop headers of its own.
    hop = await rawBackend((s) => {
      const next = () =>
        void readHead(s).then(() => {
          s.write(
            'HTTP/1.1 200 OK\r\n' +
              'Connection: keep-alive, X-Secret\r\n' +
              'X-Secret: s3cr3t\r\n' +
              'Keep-Alive: timeout=30\r\n' +
              'Proxy-Authenticate: Basic\r\n' +
              'Trailer: X-Checksum\r\n' +
              'Upgrade: foo/1\r\n' +
              'X-Kept: yes\r\n' +
              'Content-Length: 2\r\n\r\nok',
          );
          next();
        });
      next();
    });
    await fx.start([
      route('r', {
        parentRefs: [{ name: 'gw' }],
        hostnames: ['app.example.com'],
        rules: [
          {
            matches: [{ path: { type: 'PathPrefix', value: '/hop' } }],
            backendRefs: [{ name: 'hop', port: 80 }],
          },
          { backendRefs: [{ name: 'echo', port: 80 }] },
        ],
      }),
      ...service('echo', [echo.port]),
      ...service('hop', [hop.port]),
    ]);
  });

  afterAll(async () => {
    await fx.stop();
    await echo.close();
    await hop.close();
  });

  const upstreamView = async (headers: Record<string, string> = {}) => {
    const r = await fx.get('/echo', { headers });
    expect(r.status).toBe(200);
    return (JSON.parse(r.body) as { headers: Record<string, string> }).headers;
  };

  it('reuses a kept-alive upstream connection for sequential requests', async () => {
    const before = echo.connections;
    for (let i = 0; i < 40; i++) expect((await fx.get(`/seq/${i}`)).status).toBe(200);
    // Each request came on a new client connection; upstream, one (two at most
    // if the first one raced its own keep-alive bookkeeping) carried them all.
    expect(echo.connections - before).toBeLessThanOrEqual(2);
    expect(echo.requests.length).toBeGreaterThanOrEqual(40);
  });

  it('keeps a bounded number of connections under concurrency', async () => {
    const before = echo.connections;
    for (let round = 0; round < 5; round++)
      await Promise.all(Array.from({ length: 10 }, (_, i) => fx.get(`/c/${round}/${i}`)));
    expect(echo.connections - before).toBeLessThanOrEqual(10);
  });

  it('appends the client address to X-Forwarded-For and sets -Proto and -Host', async () => {
    const h = await upstreamView({
      'x-forwarded-for': '203.0.113.7',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'evil.example.net',
    });
    expect(h['x-forwarded-for']).toBe('203.0.113.7, 127.0.0.1');
    expect(h['x-forwarded-proto']).toBe('http');
    expect(h['x-forwarded-host']).toBe('app.example.com');
    expect(h.host).toBe('app.example.com');
    const plain = await upstreamView();
    expect(plain['x-forwarded-for']).toBe('127.0.0.1');
  });

  it('keeps a client X-Request-Id and generates one otherwise', async () => {
    expect((await upstreamView({ 'x-request-id': 'req-abc-123' }))['x-request-id']).toBe(
      'req-abc-123',
    );
    const a = (await upstreamView())['x-request-id'];
    const b = (await upstreamView())['x-request-id'];
    expect(a).toMatch(/^[0-9a-f-]{36}$/);
    expect(b).toMatch(/^[0-9a-f-]{36}$/);
    expect(a).not.toBe(b);
  });

  it('removes hop-by-hop request headers, and those Connection names', async () => {
    // Raw bytes: Node's client refuses to send some of these.
    const answer = await fx.raw(
      [
        'GET /echo HTTP/1.1',
        'Host: app.example.com',
        'Connection: X-Drop-Me',
        'X-Drop-Me: 1',
        'Keep-Alive: timeout=5',
        'TE: gzip',
        'Trailer: X-Checksum',
        'Upgrade: h2c',
        'Proxy-Authorization: Basic Zm9vOmJhcg==',
        'Proxy-Anything: x',
        'X-Kept: yes',
      ].join('\r\n'),
    );
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    const h = (
      JSON.parse(answer.slice(answer.indexOf('{'), answer.lastIndexOf('}') + 1)) as {
        headers: Record<string, string>;
      }
    ).headers;
    for (const name of [
      'x-drop-me',
      'keep-alive',
      'te',
      'trailer',
      'upgrade',
      'proxy-authorization',
      'proxy-anything',
    ])
      expect(h, name).not.toHaveProperty(name);
    expect(h.connection ?? '').not.toMatch(/x-drop-me/i);
    expect(h['x-kept']).toBe('yes');
  });

  it('removes hop-by-hop response headers, and those Connection names', async () => {
    const r = await fx.get('/hop');
    expect(r.status).toBe(200);
    expect(r.body).toBe('ok');
    expect(r.headers['x-kept']).toBe('yes');
    for (const name of ['x-secret', 'proxy-authenticate', 'trailer', 'upgrade'])
      expect(r.headers, name).not.toHaveProperty(name);
    // The client asked to close: its Connection and Keep-Alive are the gateway's own.
    expect(r.headers.connection).toBe('close');
    expect(r.headers['keep-alive']).toBeUndefined();
  });

  it('relays HEAD answers and statuses without a body', async () => {
    const head = await fx.get('/head', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(Number(head.headers['content-length'])).toBeGreaterThan(0);
    for (const status of [204, 304]) {
      const r = await fx.get(`/empty?status=${status}`);
      expect(r.status).toBe(status);
      expect(r.body).toBe('');
      expect(r.headers.etag).toBe('"v1"');
    }
  });

  it('forwards a body sent after 100-continue', async () => {
    const answer = await fx.raw(
      'POST /continue HTTP/1.1\r\nHost: app.example.com\r\nExpect: 100-continue\r\nContent-Length: 5',
      'hello',
    );
    expect(answer).toMatch(/HTTP\/1\.1 200 /);
    const h = JSON.parse(answer.slice(answer.indexOf('{'), answer.lastIndexOf('}') + 1)) as {
      headers: Record<string, string>;
    };
    expect(h.headers.expect).toBeUndefined();
    expect(h.headers['content-length']).toBe('5');
  });
});
