// A rule's retry policy also covers failures that are not status codes,
// through a real gateway and real sockets (HTTPRouteRetryBackendTimeout and
// HTTPRouteRetryConnectionError): a try that reaches timeouts.backendRequest
// is abandoned and retried, a connection the backend resets or refuses is
// retried, both within retry.attempts; a rule without retry does neither.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/backends.js';
import { httpBackend, type HttpBackend } from '../support/forward-backends.js';
import { ForwardFixture } from '../support/forward-fixture.js';
import { route, service } from '../support/k8s.js';

/**
 * Counts the tries per path. The first `hang` tries (from ?hang=) get no
 * answer at all, the first `reset` tries (from ?reset=) have their connection
 * destroyed; later tries get 200 "attempt <n>".
 */
function misbehaving() {
  const tries = new Map<string, number>();
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const n = (tries.get(url.pathname) ?? 0) + 1;
    tries.set(url.pathname, n);
    req.resume();
    if (n <= Number(url.searchParams.get('hang') ?? 0)) return; // never answered
    if (n <= Number(url.searchParams.get('reset') ?? 0)) {
      req.socket.destroy();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`attempt ${n}`);
  };
  return { tries, handler };
}

describe('forwarding: retries on backend timeouts and connection errors', () => {
  const fx = new ForwardFixture();
  const m = misbehaving();
  let backend: HttpBackend;

  beforeAll(async () => {
    backend = await httpBackend(m.handler);
    // Nothing listens on `closed`: connecting to it is refused.
    const closed = await freePort();
    const to = (prefix: string, svc: string, extra: Record<string, unknown>) => ({
      matches: [{ path: { type: 'PathPrefix', value: prefix } }],
      backendRefs: [{ name: svc, port: 80 }],
      ...extra,
    });
    const retry = { codes: [500], attempts: 2, backoff: '10ms' };
    await fx.start([
      route('r', {
        parentRefs: [{ name: 'gw' }],
        hostnames: ['app.example.com'],
        rules: [
          to('/retry-timeout', 'b', { retry, timeouts: { backendRequest: '300ms' } }),
          to('/no-retry-timeout', 'b', { timeouts: { backendRequest: '300ms' } }),
          to('/retry-reset', 'b', { retry }),
          to('/no-retry-reset', 'b', {}),
          to('/retry-refused', 'half-down', { retry }),
          to('/no-retry-refused', 'half-down', {}),
        ],
      }),
      ...service('b', [backend.port]),
      // Two endpoints, one refusing connections: round robin sends every
      // other first try there.
      ...service('half-down', [closed, backend.port]),
    ]);
  });

  afterAll(async () => {
    await fx.stop();
    await backend.close();
  });

  const timed = async (path: string) => {
    const t0 = Date.now();
    const r = await fx.get(path, { timeoutMs: 30_000 });
    return { ...r, ms: Date.now() - t0 };
  };

  it('retries a try that reaches the backendRequest timeout', async () => {
    const r = await timed('/retry-timeout/a?hang=1');
    expect(r.status).toBe(200);
    expect(r.body).toBe('attempt 2');
    expect(r.ms).toBeGreaterThanOrEqual(280); // the first try was waited for
    expect(m.tries.get('/retry-timeout/a')).toBe(2);
  });

  it('answers 504 once every allowed try timed out', async () => {
    const r = await timed('/retry-timeout/b?hang=100');
    expect(r.status).toBe(504);
    expect(m.tries.get('/retry-timeout/b')).toBe(3); // the request and 2 retries
    expect(r.ms).toBeGreaterThanOrEqual(3 * 280);
  });

  it('does not retry a timed-out try without a retry policy', async () => {
    const r = await timed('/no-retry-timeout/c?hang=1');
    expect(r.status).toBe(504);
    expect(m.tries.get('/no-retry-timeout/c')).toBe(1);
  });

  it('retries a connection the backend resets', async () => {
    const r = await timed('/retry-reset/d?reset=2');
    expect(r.status).toBe(200);
    expect(r.body).toBe('attempt 3');
    const none = await timed('/no-retry-reset/e?reset=1');
    expect(none.status).toBe(502);
    expect(m.tries.get('/no-retry-reset/e')).toBe(1);
  });

  it('retries a refused connection on the next endpoint', async () => {
    // One at a time, so that the retry is the next pick of the round robin.
    const with_ = [];
    for (let i = 0; i < 6; i++) with_.push((await timed(`/retry-refused/f${i}`)).status);
    expect(with_).toEqual([200, 200, 200, 200, 200, 200]);
    const without = [];
    for (let i = 0; i < 6; i++) without.push((await timed(`/no-retry-refused/g${i}`)).status);
    expect(without.filter((s) => s === 503)).toHaveLength(3);
    expect(without.filter((s) => s === 200)).toHaveLength(3);
  });
});
