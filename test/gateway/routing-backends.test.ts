// Backends end to end: weighted distribution (weight 0 gets nothing), the
// share of an invalid backend answered with 500, rules without backends
// answered with 500, and header modifiers per rule and per backendRef, on
// requests and on responses.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoBackend, freePort, type EchoBackend } from '../support/backends.js';
import { startFleet, type Fleet } from '../support/gateway-fleet.js';
import { httpGet } from '../support/http.js';
import { gateway, gatewayClass, httpListener, route, service } from '../support/k8s.js';

type Obj = Record<string, unknown>;

const onGw = (name: string, hostname: string, rules: Obj[]): Obj =>
  route(name, { parentRefs: [{ name: 'gw' }], hostnames: [hostname], rules });

const header = (kind: 'Request' | 'Response', mod: Obj): Obj => ({
  type: `${kind}HeaderModifier`,
  [`${kind === 'Request' ? 'request' : 'response'}HeaderModifier`]: mod,
});

const tagged = (name: string, weight: number, tag: string): Obj => ({
  name,
  port: 80,
  weight,
  filters: [
    header('Request', { set: [{ name: 'x-which', value: tag }] }),
    header('Response', { set: [{ name: 'x-which-response', value: tag }] }),
  ],
});

describe('routing: backends and header modifiers', () => {
  let backends: EchoBackend[];
  let fleet: Fleet;
  let port: number;

  beforeAll(async () => {
    backends = await Promise.all(['a', 'b', 'c'].map((n) => echoBackend(n)));
    port = await freePort();
    fleet = await startFleet([
      gatewayClass(),
      gateway('gw', [httpListener(port)]),
      ...backends.flatMap((b) => service(b.name, [b.port])),
      onGw('weights', 'weights.test', [
        {
          backendRefs: [
            { name: 'a', port: 80, weight: 3 },
            { name: 'b', port: 80, weight: 1 },
            { name: 'c', port: 80, weight: 0 },
          ],
        },
      ]),
      onGw('invalid', 'invalid.test', [
        {
          backendRefs: [
            { name: 'a', port: 80, weight: 1 },
            { name: 'does-not-exist', port: 80, weight: 1 },
          ],
        },
      ]),
      onGw('direct', 'direct.test', [
        { matches: [{ path: { value: '/no-backends' } }] },
        {
          matches: [{ path: { value: '/zero-weights' } }],
          backendRefs: [{ name: 'a', port: 80, weight: 0 }],
        },
      ]),
      onGw('headers', 'headers.test', [
        {
          matches: [{ path: { value: '/mod' } }],
          filters: [
            header('Request', {
              set: [{ name: 'X-Set', value: 'set-by-gateway' }],
              add: [{ name: 'x-add', value: 'added' }],
              remove: ['X-Remove'],
            }),
            header('Response', {
              set: [{ name: 'x-response-set', value: 'r' }],
              remove: ['x-backend'],
            }),
          ],
          backendRefs: [{ name: 'a', port: 80 }],
        },
        {
          matches: [{ path: { value: '/add-response' } }],
          filters: [header('Response', { add: [{ name: 'x-backend', value: 'gw' }] })],
          backendRefs: [{ name: 'a', port: 80 }],
        },
        {
          matches: [{ path: { value: '/per-backend' } }],
          backendRefs: [tagged('a', 1, 'to-a'), tagged('b', 1, 'to-b')],
        },
      ]),
    ]);
  });

  afterAll(async () => {
    await fleet?.close();
    await Promise.all((backends ?? []).map((b) => b.close()));
  });

  /** Sends `n` requests and counts who answered: the backend's name, or the status. */
  async function tally(host: string, path: string, n: number): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const r = await httpGet(port, path, host);
      const who = r.status === 200 ? String(r.headers['x-backend']) : String(r.status);
      out[who] = (out[who] ?? 0) + 1;
    }
    return out;
  }

  it('splits traffic by weight; weight 0 gets nothing', async () => {
    const t = await tally('weights.test', '/', 200);
    expect(t.c ?? 0).toBe(0);
    expect((t.a ?? 0) + (t.b ?? 0)).toBe(200);
    // Expected 150 / 50; ±25 is four standard deviations.
    expect(t.a).toBeGreaterThanOrEqual(125);
    expect(t.b).toBeGreaterThanOrEqual(25);
  });

  it("answers an invalid backend's share with 500", async () => {
    const t = await tally('invalid.test', '/', 100);
    expect((t.a ?? 0) + (t['500'] ?? 0)).toBe(100);
    expect(t['500']).toBeGreaterThanOrEqual(25);
    expect(t.a).toBeGreaterThanOrEqual(25);
  });

  it('answers 500 for a rule without backends or without weight', async () => {
    expect((await httpGet(port, '/no-backends', 'direct.test')).status).toBe(500);
    expect((await httpGet(port, '/zero-weights', 'direct.test')).status).toBe(500);
  });

  it("sets, adds and removes the rule's request and response headers", async () => {
    const r = await httpGet(port, '/mod', 'headers.test', {
      headers: { 'x-set': 'from-client', 'x-add': 'from-client', 'x-remove': 'gone' },
    });
    expect(r.status).toBe(200);
    const seen = (JSON.parse(r.body) as { headers: Record<string, string> }).headers;
    expect(seen['x-set']).toBe('set-by-gateway');
    expect(seen['x-add']).toMatch(/^from-client, ?added$/);
    expect(seen['x-remove']).toBeUndefined();
    expect(r.headers['x-response-set']).toBe('r');
    expect(r.headers['x-backend']).toBeUndefined();
    const added = await httpGet(port, '/add-response', 'headers.test');
    expect(added.headers['x-backend']).toMatch(/^a, ?gw$/);
  });

  it("applies a backendRef's header modifiers only to requests sent to it", async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const r = await httpGet(port, '/per-backend', 'headers.test');
      expect(r.status).toBe(200);
      const body = JSON.parse(r.body) as { pod: string; headers: Record<string, string> };
      expect(body.headers['x-which']).toBe(`to-${body.pod}`);
      expect(r.headers['x-which-response']).toBe(`to-${body.pod}`);
      seen.add(body.pod);
    }
    expect([...seen].sort()).toEqual(['a', 'b']);
  });
});
