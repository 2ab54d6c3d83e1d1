// Requests run on the configuration they started with: a slow request that
// started before its route moved to another backend (and its Service went
// away altogether) completes against the old backend, while requests that
// start after the change go to the new one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpBackend, type HttpBackend } from '../support/forward-backends.js';
import { ForwardFixture, HOST, until } from '../support/forward-fixture.js';
import { route, service } from '../support/k8s.js';

const routeTo = (svc: string) =>
  route('r', {
    parentRefs: [{ name: 'gw' }],
    hostnames: [HOST],
    rules: [{ backendRefs: [{ name: svc, port: 80 }] }],
  });

describe('forwarding: requests in flight across a configuration change', () => {
  const fx = new ForwardFixture();
  let oldB: HttpBackend;
  let newB: HttpBackend;
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));

  beforeAll(async () => {
    // The old backend holds /slow until the test releases it.
    oldB = await httpBackend((req, res) => {
      req.resume();
      if (req.url === '/slow') void released.then(() => res.end('old backend, slow'));
      else res.end('old backend');
    });
    newB = await httpBackend((req, res) => {
      req.resume();
      res.end('new backend');
    });
    await fx.start([routeTo('old'), ...service('old', [oldB.port])]);
  });

  afterAll(async () => {
    await fx.stop();
    await oldB.close();
    await newB.close();
  });

  it('finishes a slow request on the old backend while new requests go to the new one', async () => {
    expect((await fx.get('/before')).body).toBe('old backend');
    const slow = fx.get('/slow', { timeoutMs: 20_000 });
    await until(() => oldB.requests.some((r) => r.url === '/slow'), 'the slow request to arrive');
    // The route moves and the old Service disappears from the configuration.
    await fx.update([routeTo('new'), ...service('new', [newB.port])]);
    const after = await fx.get('/after');
    expect(after.body).toBe('new backend');
    expect(oldB.requests.some((r) => r.url === '/after')).toBe(false);
    release();
    const r = await slow;
    expect(r.status).toBe(200);
    expect(r.body).toBe('old backend, slow');
  });
});
