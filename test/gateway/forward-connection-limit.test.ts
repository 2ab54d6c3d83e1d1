// Upstream connection limit: a backend that stalls gets at most 1,024
// connections from one gateway (Envoy's default circuit breaker), however
// many requests wait; the waiting requests are sent once connections free
// up, and all of them succeed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpBackend, type HttpBackend } from '../support/forward-backends.js';
import { ForwardFixture, until } from '../support/forward-fixture.js';
import { route, service } from '../support/k8s.js';

const REQUESTS = 1_200;
const LIMIT = 1_024;

describe('forwarding: upstream connection limit', () => {
  const fx = new ForwardFixture();
  let stalled: HttpBackend;
  const held: (() => void)[] = [];
  let release = false;

  beforeAll(async () => {
    stalled = await httpBackend((req, res) => {
      const answer = () => {
        res.writeHead(200, { 'content-length': '2' });
        res.end('ok');
      };
      req.resume();
      if (release) answer();
      else held.push(answer);
    });
    await fx.start([
      route('r', {
        parentRefs: [{ name: 'gw' }],
        hostnames: ['app.example.com'],
        rules: [{ backendRefs: [{ name: 'stalled', port: 80 }] }],
      }),
      ...service('stalled', [stalled.port]),
    ]);
  }, 60_000);

  afterAll(async () => {
    release = true;
    for (const h of held.splice(0)) h();
    await fx.stop();
    await stalled.close();
  });

  it(`opens at most ${LIMIT} connections to a stalled endpoint, then serves every waiting request`, async () => {
    const replies = Array.from({ length: REQUESTS }, (_, i) =>
      fx.get(`/r${i}`, { timeoutMs: 60_000 }),
    );
    await until(() => held.length >= LIMIT, `${LIMIT} requests held by the backend`, 30_000);
    // Give the gateway time to open more connections, if it would.
    await new Promise((r) => setTimeout(r, 500));
    expect(stalled.connections).toBe(LIMIT);
    expect(held.length).toBe(LIMIT);
    release = true;
    for (const h of held.splice(0)) h();
    const statuses = (await Promise.all(replies)).map((r) => r.status);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(stalled.connections).toBe(LIMIT);
  }, 90_000);
});
