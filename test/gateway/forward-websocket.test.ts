// WebSocket upgrades through a real gateway: a backend Service whose port
// has appProtocol kubernetes.io/ws gets the upgrade and frames flow both
// ways; a backend that is not a WebSocket backend never sees an upgrade.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ForwardFixture, HOST, until } from '../support/forward-fixture.js';
import { route, service } from '../support/k8s.js';
import { wsConnect, wsEchoServer, type WsEchoServer } from '../support/websocket.js';

describe('forwarding: WebSocket', () => {
  const fx = new ForwardFixture();
  let ws: WsEchoServer;
  let plain: WsEchoServer;

  beforeAll(async () => {
    ws = await wsEchoServer();
    plain = await wsEchoServer();
    await fx.start([
      route('r', {
        parentRefs: [{ name: 'gw' }],
        hostnames: [HOST],
        rules: [
          {
            matches: [{ path: { type: 'PathPrefix', value: '/ws' } }],
            backendRefs: [{ name: 'ws', port: 80 }],
          },
          { backendRefs: [{ name: 'plain', port: 80 }] },
        ],
      }),
      ...service('ws', [ws.port], { appProtocol: 'kubernetes.io/ws' }),
      ...service('plain', [plain.port]),
    ]);
  });

  afterAll(async () => {
    await fx.stop();
    await ws.close();
    await plain.close();
  });

  it('upgrades to a kubernetes.io/ws backend and relays frames both ways', async () => {
    const c = await wsConnect(fx.port, HOST, '/ws/chat');
    try {
      expect(c.status).toBe(101);
      expect(c.head).toMatch(/^upgrade: websocket$/im);
      c.send('hello');
      expect(await c.next()).toBe('echo: hello');
      const big = 'b'.repeat(200_000);
      c.send(big);
      c.send('after');
      expect(await c.next()).toBe(`echo: ${big}`);
      expect(await c.next()).toBe('echo: after');
    } finally {
      c.close();
    }
    // The client went away: so does the gateway's connection to the backend.
    await until(() => ws.open() === 0, 'the upstream WebSocket to close');
    const h = ws.upgrades.at(-1)!;
    expect(h.upgrade).toBe('websocket');
    expect(h['x-forwarded-for']).toBe('127.0.0.1');
    expect(h.host).toBe(HOST);
  });

  it('keeps many WebSockets apart', async () => {
    const clients = await Promise.all(
      Array.from({ length: 10 }, () => wsConnect(fx.port, HOST, '/ws/many')),
    );
    try {
      expect(clients.map((c) => c.status)).toEqual(clients.map(() => 101));
      clients.forEach((c, i) => c.send(`client ${i}`));
      const got = await Promise.all(clients.map((c) => c.next()));
      expect(got).toEqual(clients.map((_, i) => `echo: client ${i}`));
    } finally {
      for (const c of clients) c.close();
    }
  });

  it('does not upgrade to a backend that is not a WebSocket backend', async () => {
    const before = plain.upgrades.length;
    const c = await wsConnect(fx.port, HOST, '/plain');
    c.close();
    expect(c.status).not.toBe(101);
    expect(plain.upgrades.length).toBe(before);
    // Plain HTTP on the same route is served as ever.
    const r = await fx.get('/plain');
    expect(r.status).toBe(200);
    expect(r.body).toBe('plain no upgrade');
  });

  it('serves an h2c upgrade request as a plain request, as Envoy does', async () => {
    const answer = await fx.raw(
      'GET /ws/h2c HTTP/1.1\r\nHost: app.example.com\r\nConnection: Upgrade, HTTP2-Settings\r\n' +
        'Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA',
    );
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(answer).toContain('plain no upgrade');
  });
});
