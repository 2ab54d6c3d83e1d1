// HTTPRoute timeouts and retries through a real gateway: request and
// backendRequest timeouts answer 504, 0s disables them; a backend that fails
// a few times is retried until it answers, within the configured attempts;
// a request body is sent again only when it was small enough to be kept
// (gateway/runtime/body.ts: RETRY_BODY_LIMIT, 64 KiB).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { delayed, httpBackend, type HttpBackend } from '../support/forward-backends.js';
import { ForwardFixture } from '../support/forward-fixture.js';
import { route, service } from '../support/k8s.js';

/** Fails with 503 the first `n` times a path is asked for (n from ?fail=), then answers 200 with the body it got. */
function flaky() {
  const seen = new Map<string, { count: number; bodies: string[] }>();
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const s = seen.get(url.pathname) ?? { count: 0, bodies: [] };
      seen.set(url.pathname, s);
      s.count++;
      s.bodies.push(Buffer.concat(chunks).toString('latin1'));
      const fail = Number(url.searchParams.get('fail') ?? 0);
      res.writeHead(s.count <= fail ? 503 : 200, { 'content-type': 'text/plain' });
      res.end(`attempt ${s.count}`);
    });
  };
  return { seen, handler };
}

describe('forwarding: timeouts and retries', () => {
  const fx = new ForwardFixture();
  const f = flaky();
  let slow: HttpBackend;
  let flakyBackend: HttpBackend;

  beforeAll(async () => {
    slow = await httpBackend((req, res) => {
      const ms = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('ms') ?? 0);
      delayed(ms, `after ${ms} ms`)(req, res);
    });
    flakyBackend = await httpBackend(f.handler);
    const to = (prefix: string, svc: string, extra: Record<string, unknown>) => ({
      matches: [{ path: { type: 'PathPrefix', value: prefix } }],
      backendRefs: [{ name: svc, port: 80 }],
      ...extra,
    });
    await fx.start([
      route('r', {
        parentRefs: [{ name: 'gw' }],
        hostnames: ['app.example.com'],
        rules: [
          to('/request-timeout', 'slow', { timeouts: { request: '300ms' } }),
          to('/backend-timeout', 'slow', { timeouts: { backendRequest: '300ms' } }),
          to('/no-timeout', 'slow', { timeouts: { request: '0s', backendRequest: '0s' } }),
          to('/default-timeout', 'slow', {}),
          to('/retry', 'flaky', {
            retry: { codes: [503], attempts: 3, backoff: '10ms' },
          }),
          to('/retry-once', 'flaky', { retry: { codes: [503], attempts: 1, backoff: '10ms' } }),
        ],
      }),
      ...service('slow', [slow.port]),
      ...service('flaky', [flakyBackend.port]),
    ]);
  });

  afterAll(async () => {
    await fx.stop();
    await slow.close();
    await flakyBackend.close();
  });

  const timed = async (path: string, opts: Parameters<typeof fx.get>[1] = {}) => {
    const t0 = Date.now();
    const r = await fx.get(path, { timeoutMs: 30_000, ...opts });
    return { ...r, ms: Date.now() - t0 };
  };

  it('answers 504 when the backend is slower than the request timeout', async () => {
    const r = await timed('/request-timeout?ms=5000');
    expect(r.status).toBe(504);
    expect(r.ms).toBeGreaterThanOrEqual(280);
    expect(r.ms).toBeLessThan(3000);
    expect((await timed('/request-timeout?ms=0')).status).toBe(200);
  });

  it('answers 504 when one try is slower than the backendRequest timeout', async () => {
    const r = await timed('/backend-timeout?ms=5000');
    expect(r.status).toBe(504);
    expect(r.ms).toBeLessThan(3000);
  });

  it('waits as long as it takes when both timeouts are 0s (past the 15 s default)', async () => {
    const [unbounded, bounded] = await Promise.all([
      timed('/no-timeout?ms=16000'),
      timed('/default-timeout?ms=16000'),
    ]);
    expect(bounded.status).toBe(504);
    expect(unbounded.status).toBe(200);
    expect(unbounded.body).toBe('after 16000 ms');
  }, 40_000);

  it('retries a flaky backend until it answers', async () => {
    const r = await timed('/retry/a?fail=2');
    expect(r.status).toBe(200);
    expect(r.body).toBe('attempt 3');
    expect(f.seen.get('/retry/a')!.count).toBe(3);
  });

  it('stops after the configured attempts and passes the last answer on', async () => {
    const r = await timed('/retry/b?fail=100');
    expect(r.status).toBe(503);
    expect(f.seen.get('/retry/b')!.count).toBe(4); // the request and 3 retries
    const once = await timed('/retry-once/c?fail=100');
    expect(once.status).toBe(503);
    expect(f.seen.get('/retry-once/c')!.count).toBe(2);
  });

  it('retries a request with a small body, sending the same body again', async () => {
    const body = 'payload-'.repeat(1000); // 8 KB, kept for retries
    const r = await timed('/retry/d?fail=1', { method: 'POST', body });
    expect(r.status).toBe(200);
    expect(f.seen.get('/retry/d')!.bodies).toEqual([body, body]);
    // Chunked (no Content-Length) is kept the same way.
    const chunked = await timed('/retry/e?fail=1', {
      method: 'POST',
      body,
      headers: { 'transfer-encoding': 'chunked' },
    });
    expect(chunked.status).toBe(200);
    expect(f.seen.get('/retry/e')!.bodies).toEqual([body, body]);
  });

  it('does not retry a request whose body was too large to keep', async () => {
    const body = 'x'.repeat(200 * 1024);
    const r = await timed('/retry/f?fail=1', { method: 'POST', body });
    expect(r.status).toBe(503);
    expect(f.seen.get('/retry/f')!.count).toBe(1);
    expect(f.seen.get('/retry/f')!.bodies[0]!.length).toBe(body.length);
  });
});
