// RequestMirror through a real gateway: the mirror gets a copy (Host
// `<host>-shadow`) whose answer is dropped; a slow, stalled or dead mirror
// never delays or fails the request; a percentage is honoured; bodies are
// mirrored as they stream, and a mirror that cannot keep up is dropped
// rather than slowing the client.
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/backends.js';
import { httpBackend, type HttpBackend } from '../support/forward-backends.js';
import { ForwardFixture, until } from '../support/forward-fixture.js';
import { route, service } from '../support/k8s.js';

interface Seen {
  host: string;
  path: string;
  bytes: number;
  sha: string;
}

/**
 * A backend that records what it got (host, path, body size and hash) and
 * answers `status`; it starts reading a body `lagMs` after the request came.
 */
async function recorder(status: number, answer: string, lagMs = 0) {
  const seen: Seen[] = [];
  const backend = await httpBackend((req: IncomingMessage, res) => {
    if (lagMs > 0) {
      req.pause();
      setTimeout(() => req.resume(), lagMs);
    }
    const h = createHash('sha256');
    let bytes = 0;
    req.on('data', (c: Buffer) => {
      h.update(c);
      bytes += c.length;
    });
    req.on('end', () => {
      seen.push({ host: req.headers.host ?? '', path: req.url ?? '', bytes, sha: h.digest('hex') });
      res.writeHead(status, { 'x-from': answer });
      res.end(answer);
    });
  });
  return { seen, backend };
}

describe('forwarding: mirrors', () => {
  const fx = new ForwardFixture();
  let main: Awaited<ReturnType<typeof recorder>>;
  let mirror: Awaited<ReturnType<typeof recorder>>;
  let half: Awaited<ReturnType<typeof recorder>>;
  let stalled: HttpBackend;
  let lagging: Awaited<ReturnType<typeof recorder>>;
  /** Opened by the last test: until then the stalled mirror reads no body. */
  let openGate!: () => void;
  const gate = new Promise<void>((r) => (openGate = r));
  /** What the stalled mirror saw of each request with a body. */
  const stalledSeen = new Map<string, { closed?: boolean; complete?: boolean }>();

  beforeAll(async () => {
    main = await recorder(200, 'main');
    mirror = await recorder(500, 'mirror');
    half = await recorder(200, 'half');
    lagging = await recorder(200, 'lagging', 300);
    // Answers a GET after 4 s; reads a body only once the gate opens.
    stalled = await httpBackend((req, res) => {
      if (req.method === 'GET') {
        req.resume();
        const t = setTimeout(() => res.end('too late'), 4_000);
        res.on('close', () => clearTimeout(t));
        return;
      }
      const entry: { closed?: boolean; complete?: boolean } = {};
      stalledSeen.set(req.url ?? '', entry);
      req.pause();
      req.on('close', () => {
        entry.closed = true;
        entry.complete = req.complete;
      });
      void gate.then(() => {
        req.on('end', () => res.end('too late'));
        req.resume();
      });
    });
    const dead = await freePort();
    const mirrored = (prefix: string, to: string, percent?: number) => ({
      matches: [{ path: { type: 'PathPrefix', value: prefix } }],
      backendRefs: [{ name: 'main', port: 80 }],
      filters: [
        {
          type: 'RequestMirror',
          requestMirror: {
            backendRef: { name: to, port: 80 },
            ...(percent === undefined ? {} : { percent }),
          },
        },
      ],
    });
    await fx.start([
      route('r', {
        parentRefs: [{ name: 'gw' }],
        hostnames: ['app.example.com'],
        rules: [
          mirrored('/mirror', 'mirror'),
          mirrored('/stalled', 'stalled'),
          mirrored('/dead', 'dead'),
          mirrored('/half', 'half', 50),
          mirrored('/lagging', 'lagging'),
        ],
      }),
      ...service('main', [main.backend.port]),
      ...service('mirror', [mirror.backend.port]),
      ...service('half', [half.backend.port]),
      ...service('lagging', [lagging.backend.port]),
      ...service('stalled', [stalled.port]),
      ...service('dead', [dead]),
    ]);
  });

  afterAll(async () => {
    await fx.stop();
    for (const b of [main.backend, mirror.backend, half.backend, lagging.backend, stalled])
      await b.close();
  });

  it('sends a copy to the mirror with a -shadow Host and drops its answer', async () => {
    const r = await fx.get('/mirror/one?q=1');
    expect(r.status).toBe(200);
    expect(r.body).toBe('main');
    expect(r.headers['x-from']).toBe('main');
    const copy = await until(
      () => mirror.seen.find((s) => s.path === '/mirror/one?q=1'),
      'the mirror to get its copy',
    );
    expect(copy.host).toBe('app.example.com-shadow');
    expect(main.seen.find((s) => s.path === '/mirror/one?q=1')!.host).toBe('app.example.com');
  });

  it('is not delayed or failed by a stalled or a dead mirror', async () => {
    const t0 = Date.now();
    const [a, b] = await Promise.all([fx.get('/stalled/get'), fx.get('/dead/get')]);
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(Date.now() - t0).toBeLessThan(2_000);
  });

  it('mirrors the share of requests its percentage asks for', async () => {
    const before = half.seen.length;
    const n = 400;
    for (let i = 0; i < n; i += 20)
      await Promise.all(Array.from({ length: 20 }, (_, j) => fx.get(`/half/${i + j}`)));
    // Mirrors are fire and forget: wait for the stragglers.
    await new Promise((r) => setTimeout(r, 300));
    const got = half.seen.length - before;
    // Binomial(400, 0.5): mean 200, σ 10; ±50 is five σ.
    expect(got).toBeGreaterThan(150);
    expect(got).toBeLessThan(250);
  });

  it('mirrors a request body as it streams', async () => {
    const body = Buffer.alloc(3 * 1024 * 1024, 'm').toString('latin1');
    const sha = createHash('sha256').update(body, 'latin1').digest('hex');
    const r = await fx.get('/mirror/upload', { method: 'POST', body });
    expect(r.status).toBe(200);
    expect(main.seen.find((s) => s.path === '/mirror/upload')).toMatchObject({
      bytes: body.length,
      sha,
    });
    const copy = await until(
      () => mirror.seen.find((s) => s.path === '/mirror/upload'),
      'the mirror to get the body',
    );
    expect(copy).toMatchObject({ bytes: body.length, sha, host: 'app.example.com-shadow' });
  });

  it('lets a mirror that lags behind, within bounds, finish after the request did', async () => {
    const body = Buffer.alloc(512 * 1024, 'l').toString('latin1');
    const r = await fx.get('/lagging/upload', { method: 'POST', body });
    expect(r.status).toBe(200);
    // The answer came while the mirror had not even started reading.
    expect(lagging.seen.find((s) => s.path === '/lagging/upload')).toBeUndefined();
    const copy = await until(
      () => lagging.seen.find((s) => s.path === '/lagging/upload'),
      'the lagging mirror to get the whole body',
    );
    expect(copy.bytes).toBe(body.length);
  });

  it('drops a mirror that cannot keep up instead of slowing the client', async () => {
    const body = Buffer.alloc(40 * 1024 * 1024, 's').toString('latin1');
    const r = await fx.get('/stalled/upload', { method: 'POST', body, timeoutMs: 20_000 });
    // The stalled mirror has read nothing yet: the client was not held up by it.
    expect(r.status).toBe(200);
    expect(main.seen.find((s) => s.path === '/stalled/upload')!.bytes).toBe(body.length);
    openGate();
    // A later mirrored request gets through, and the upload's copy, if it got
    // to the mirror at all, was cut short: the gateway gave up on it.
    await fx.get('/stalled/sentinel', { method: 'POST', body: 'x' });
    await until(() => stalledSeen.get('/stalled/sentinel')?.closed, 'the next mirrored request');
    const copy = stalledSeen.get('/stalled/upload');
    if (copy) await until(() => copy.closed, 'the dropped copy to close');
    expect(copy?.complete ?? false).toBe(false);
  }, 30_000);
});
