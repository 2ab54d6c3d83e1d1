// What a client gets when the upstream cannot serve it: 503 without an
// endpoint or when the connection is refused, 502 when the upstream resets
// the exchange or answers something that is not HTTP, and a cut-short
// response when it breaks after the response started. The gateway keeps
// serving through all of it.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/backends.js';
import {
  httpBackend,
  rawBackend,
  readHead,
  type HttpBackend,
  type TestBackend,
} from '../support/forward-backends.js';
import { ForwardFixture, HOST, until } from '../support/forward-fixture.js';
import { route, service } from '../support/k8s.js';

describe('forwarding: upstream failures', () => {
  const fx = new ForwardFixture();
  let ok: HttpBackend;
  const broken: TestBackend[] = [];

  /** Streams forever until its client goes; set when the gateway hung up on it. */
  const endless = { started: false, abandoned: false };

  beforeAll(async () => {
    ok = await httpBackend((req, res) => {
      req.resume();
      if (req.url !== '/endless') return void res.end('fine');
      endless.started = true;
      res.writeHead(200, { 'content-type': 'text/plain' });
      const t = setInterval(() => res.write('tick\n'), 20);
      res.on('close', () => {
        clearInterval(t);
        endless.abandoned = true;
      });
    });
    const reset = await rawBackend((s) => void readHead(s).then(() => s.resetAndDestroy()));
    const garbage = await rawBackend(
      (s) => void readHead(s).then(() => s.end('this is not HTTP at all\r\n\r\n')),
    );
    const cut = await rawBackend(
      (s) =>
        void readHead(s).then(() => {
          s.write('HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\n');
          s.write('x'.repeat(1000), () => setTimeout(() => s.resetAndDestroy(), 50));
        }),
    );
    broken.push(reset, garbage, cut);
    const refused = await freePort();
    const rule = (prefix: string, svc: string) => ({
      matches: [{ path: { type: 'PathPrefix', value: prefix } }],
      backendRefs: [{ name: svc, port: 80 }],
    });
    await fx.start([
      route('r', {
        parentRefs: [{ name: 'gw' }],
        hostnames: ['app.example.com'],
        rules: [
          rule('/no-endpoint', 'empty'),
          rule('/refused', 'refused'),
          rule('/reset', 'reset'),
          rule('/garbage', 'garbage'),
          rule('/cut', 'cut'),
          rule('/', 'ok'),
        ],
      }),
      ...service('ok', [ok.port]),
      ...service('empty', []),
      ...service('refused', [refused]),
      ...service('reset', [reset.port]),
      ...service('garbage', [garbage.port]),
      ...service('cut', [cut.port]),
    ]);
  });

  afterAll(async () => {
    await fx.stop();
    await ok.close();
    for (const b of broken) await b.close();
  });

  it('answers 503 when the cluster has no endpoint', async () => {
    const r = await fx.get('/no-endpoint');
    expect(r.status).toBe(503);
  });

  it('answers 503 when the connection is refused', async () => {
    const r = await fx.get('/refused');
    expect(r.status).toBe(503);
    expect(r.body).toMatch(/connect/);
  });

  it('answers 502 when the upstream resets the connection before answering', async () => {
    const r = await fx.get('/reset');
    expect(r.status).toBe(502);
  });

  it('answers 502 when the upstream answers something that is not HTTP', async () => {
    const r = await fx.get('/garbage');
    expect(r.status).toBe(502);
  });

  it('cuts the response short when the upstream breaks after it started', async () => {
    await expect(fx.get('/cut')).rejects.toThrow();
  });

  it('hangs up on the upstream when the client goes away mid-response', async () => {
    await new Promise<void>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: fx.port, path: '/endless', headers: { host: HOST } },
        (res) => res.once('data', () => (req.destroy(), resolve())),
      );
      req.on('error', () => {});
      req.on('close', () => (endless.started ? undefined : reject(new Error('closed early'))));
      req.end();
    });
    await until(() => endless.abandoned, 'the upstream response to be abandoned');
  });

  it('keeps serving after every kind of failure, many times over', async () => {
    const paths = ['/no-endpoint', '/refused', '/reset', '/garbage', '/cut'];
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => fx.get(paths[i % paths.length]!).catch(() => null)),
    );
    const r = await fx.get('/fine');
    expect(r.status).toBe(200);
    expect(r.body).toBe('fine');
    expect(fx.gw.child.exitCode).toBeNull();
    expect((await fx.gw.admin('/ready')).status).toBe(200);
  });
});
