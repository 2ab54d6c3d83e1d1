// RequestRedirect and URLRewrite end to end: the Location a redirect writes
// (scheme, host, port rules, full and prefix path replacement, status
// codes, default ports left out) and what a backend receives after a
// rewrite of the host or the path.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoBackend, freePort, type EchoBackend } from '../support/backends.js';
import { startFleet, type Fleet } from '../support/gateway-fleet.js';
import { httpGet } from '../support/http.js';
import { gateway, gatewayClass, httpListener, route, service } from '../support/k8s.js';

type Obj = Record<string, unknown>;

const redirect = (prefix: string, requestRedirect: Obj): Obj => ({
  matches: [{ path: { type: 'PathPrefix', value: prefix } }],
  filters: [{ type: 'RequestRedirect', requestRedirect }],
});

const rewrite = (prefix: string, urlRewrite: Obj): Obj => ({
  matches: [{ path: { type: 'PathPrefix', value: prefix } }],
  filters: [{ type: 'URLRewrite', urlRewrite }],
  backendRefs: [{ name: 'svc', port: 80 }],
});

describe('routing: redirects and rewrites', () => {
  let backend: EchoBackend;
  let fleet: Fleet;
  let port: number;

  beforeAll(async () => {
    backend = await echoBackend('svc');
    port = await freePort();
    fleet = await startFleet([
      gatewayClass(),
      gateway('gw', [httpListener(port)]),
      ...service('svc', [backend.port]),
      route('redirects', {
        parentRefs: [{ name: 'gw' }],
        hostnames: ['redirect.test'],
        rules: [
          redirect('/to-https', { scheme: 'https' }),
          redirect('/same', {}),
          redirect('/other-host', { hostname: 'other.test' }),
          redirect('/port-only', { port: 8080 }),
          redirect('/http-80', { scheme: 'http', port: 80 }),
          redirect('/https-8443', { scheme: 'https', port: 8443 }),
          redirect('/full', { path: { type: 'ReplaceFullPath', replaceFullPath: '/new-full' } }),
          redirect('/old', { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/new' } }),
          redirect('/strip', { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } }),
          ...[301, 302, 303, 307, 308].map((statusCode) =>
            redirect(`/status/${statusCode}`, { statusCode }),
          ),
        ],
      }),
      route('rewrites', {
        parentRefs: [{ name: 'gw' }],
        hostnames: ['rewrite.test'],
        rules: [
          rewrite('/host', { hostname: 'rewritten.test' }),
          rewrite('/full', { path: { type: 'ReplaceFullPath', replaceFullPath: '/replaced' } }),
          rewrite('/prefix', {
            path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/new' },
          }),
          rewrite('/to-root', { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } }),
        ],
      }),
    ]);
  });

  afterAll(async () => {
    await fleet?.close();
    await backend?.close();
  });

  async function location(path: string, host = 'redirect.test'): Promise<[number, string]> {
    const r = await httpGet(port, path, host);
    return [r.status, String(r.headers.location)];
  }

  it('keeps scheme, host and the listener port unless told otherwise', async () => {
    expect(await location('/same/a?q=1')).toEqual([302, `http://redirect.test:${port}/same/a?q=1`]);
    // The request's own port plays no part: the listener's is used.
    expect(await location('/same', 'redirect.test:1234')).toEqual([
      302,
      `http://redirect.test:${port}/same`,
    ]);
    expect(await location('/other-host/x')).toEqual([
      302,
      `http://other.test:${port}/other-host/x`,
    ]);
    expect(await location('/port-only')).toEqual([302, 'http://redirect.test:8080/port-only']);
  });

  it("uses the scheme's well-known port and leaves default ports out of the Location", async () => {
    expect(await location('/to-https/p?x=y')).toEqual([
      302,
      'https://redirect.test/to-https/p?x=y',
    ]);
    expect(await location('/http-80')).toEqual([302, 'http://redirect.test/http-80']);
    expect(await location('/https-8443')).toEqual([302, 'https://redirect.test:8443/https-8443']);
  });

  it('replaces the full path or the matched prefix, keeping the query', async () => {
    expect(await location('/full/a/b?q=1')).toEqual([
      302,
      `http://redirect.test:${port}/new-full?q=1`,
    ]);
    expect(await location('/old/x/y?q=1')).toEqual([
      302,
      `http://redirect.test:${port}/new/x/y?q=1`,
    ]);
    expect(await location('/old')).toEqual([302, `http://redirect.test:${port}/new`]);
    expect(await location('/strip/x')).toEqual([302, `http://redirect.test:${port}/x`]);
    expect(await location('/strip')).toEqual([302, `http://redirect.test:${port}/`]);
  });

  it('answers with the configured status code', async () => {
    for (const code of [301, 302, 303, 307, 308]) {
      const [status, loc] = await location(`/status/${code}`);
      expect(status).toBe(code);
      expect(loc).toBe(`http://redirect.test:${port}/status/${code}`);
    }
  });

  async function received(path: string): Promise<{ path: string; host: string }> {
    const r = await httpGet(port, path, 'rewrite.test');
    expect(r.status).toBe(200);
    return JSON.parse(r.body) as { path: string; host: string };
  }

  it('rewrites the host sent to the backend', async () => {
    expect(await received('/host/a')).toMatchObject({ host: 'rewritten.test', path: '/host/a' });
    expect(await received('/full/a')).toMatchObject({ host: 'rewrite.test' });
  });

  it('rewrites the full path or the matched prefix, keeping the query', async () => {
    expect((await received('/full/any/thing?x=1')).path).toBe('/replaced?x=1');
    expect((await received('/prefix/a?b=1')).path).toBe('/new/a?b=1');
    expect((await received('/prefix')).path).toBe('/new');
    expect((await received('/prefix/')).path).toBe('/new/');
    expect((await received('/to-root/a/b')).path).toBe('/a/b');
    expect((await received('/to-root')).path).toBe('/');
    expect((await received('/to-root/')).path).toBe('/');
    expect((await httpGet(port, '/prefixx', 'rewrite.test')).status).toBe(404);
  });
});
