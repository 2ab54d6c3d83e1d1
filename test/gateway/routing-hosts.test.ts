// Hostname matching end to end: exact and wildcard listeners sharing a port,
// route hostnames, listener isolation (a host a more specific listener
// serves never reaches a less specific listener's routes), case-insensitive
// Host matching with its port ignored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoBackend, freePort, type EchoBackend } from '../support/backends.js';
import { startFleet, type Fleet } from '../support/gateway-fleet.js';
import { httpGet } from '../support/http.js';
import { gateway, gatewayClass, httpListener, route, service } from '../support/k8s.js';

type Obj = Record<string, unknown>;

function tagged(name: string, section: string, hostnames: string[], prefix: string): Obj {
  return route(name, {
    parentRefs: [{ name: 'gw', sectionName: section }],
    hostnames,
    rules: [
      {
        matches: [{ path: { type: 'PathPrefix', value: prefix } }],
        filters: [
          {
            type: 'ResponseHeaderModifier',
            responseHeaderModifier: { set: [{ name: 'x-route', value: name }] },
          },
        ],
        backendRefs: [{ name: 'svc', port: 80 }],
      },
    ],
  });
}

describe('routing: hostnames and listener isolation', () => {
  let backend: EchoBackend;
  let fleet: Fleet;
  let port: number;

  beforeAll(async () => {
    backend = await echoBackend('svc');
    port = await freePort();
    fleet = await startFleet([
      gatewayClass(),
      gateway('gw', [
        httpListener(port, 'any'),
        httpListener(port, 'wild', '*.example.com'),
        httpListener(port, 'foo', 'foo.example.com'),
      ]),
      ...service('svc', [backend.port]),
      tagged('any', 'any', [], '/'),
      tagged('any-for-foo', 'any', ['foo.example.com'], '/from-any'),
      tagged('wild', 'wild', [], '/'),
      tagged('wild-bar', 'wild', ['bar.example.com'], '/bar'),
      tagged('foo', 'foo', [], '/only-foo'),
    ]);
  });

  afterAll(async () => {
    await fleet?.close();
    await backend?.close();
  });

  async function served(host: string, path: string): Promise<string> {
    const r = await httpGet(port, path, host);
    return r.status === 200 ? String(r.headers['x-route']) : String(r.status);
  }

  it('routes a host by the most specific listener that covers it', async () => {
    expect(await served('foo.example.com', '/only-foo')).toBe('foo');
    expect(await served('bar.example.com', '/x')).toBe('wild');
    expect(await served('a.b.example.com', '/x')).toBe('wild'); // wildcards span labels
    expect(await served('x.foo.example.com', '/x')).toBe('wild');
    expect(await served('example.com', '/x')).toBe('any'); // not the apex
    expect(await served('other.test', '/x')).toBe('any');
  });

  it("never routes a more specific listener's host by a less specific listener's routes", async () => {
    // foo.example.com belongs to the foo listener: neither the wildcard
    // listener's catch-all nor a route on the catch-all listener naming it applies.
    expect(await served('foo.example.com', '/x')).toBe('404');
    expect(await served('foo.example.com', '/from-any')).toBe('404');
  });

  it("matches a route's own hostnames within its listener", async () => {
    expect(await served('bar.example.com', '/bar/1')).toBe('wild-bar');
    expect(await served('baz.example.com', '/bar/1')).toBe('wild');
  });

  it('matches the Host case-insensitively and ignores its port', async () => {
    expect(await served('FOO.Example.COM', '/only-foo')).toBe('foo');
    expect(await served('foo.example.com:8080', '/only-foo')).toBe('foo');
    expect(await served('bar.example.com:1', '/x')).toBe('wild');
  });

  it('matches the Host without its port and forwards it as received', async () => {
    const r = await httpGet(port, '/only-foo', 'foo.example.com:8080');
    expect(r.status).toBe(200);
    expect((JSON.parse(r.body) as { host: string }).host).toBe('foo.example.com:8080');
  });
});
