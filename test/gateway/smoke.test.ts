// A real gateway process configured by gatefleet's xDS server answers real
// HTTP: routed to a backend, 404 without a route, 500 for an invalid backend,
// 503 without endpoints.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoBackend, freePort, type EchoBackend } from '../support/backends.js';
import { ControlPlane, GatewayProcess } from '../support/gateway-harness.js';
import { httpGet } from '../support/http.js';
import { gateway, gatewayClass, httpListener, route, service } from '../support/k8s.js';

describe('gateway end to end', () => {
  const cp = new ControlPlane();
  let gw: GatewayProcess;
  let backend: EchoBackend;
  let port: number;

  beforeAll(async () => {
    backend = await echoBackend('backend-a');
    port = await freePort();
    cp.publish([
      gatewayClass(),
      gateway('gw', [httpListener(port)]),
      route('r', {
        parentRefs: [{ name: 'gw' }],
        hostnames: ['app.example.com'],
        rules: [
          {
            matches: [{ path: { type: 'PathPrefix', value: '/missing' } }],
            backendRefs: [{ name: 'nope', port: 80 }],
          },
          {
            matches: [{ path: { type: 'PathPrefix', value: '/empty' } }],
            backendRefs: [{ name: 'empty', port: 80 }],
          },
          { backendRefs: [{ name: 'svc', port: 80 }] },
        ],
      }),
      ...service('svc', [backend.port]),
      ...service('empty', []),
    ]);
    await cp.start();
    gw = new GatewayProcess([
      '--xds',
      `127.0.0.1:${cp.port}`,
      '--fleet',
      'default/gw',
      '--node-id',
      'gw-1',
    ]);
    await gw.ready();
  });

  afterAll(async () => {
    await gw?.stop();
    await cp.close();
    await backend.close();
  });

  const get = (path: string, host = 'app.example.com') => httpGet(port, path, host);

  it('routes to the backend with forwarding headers', async () => {
    const r = await get('/hello?x=1');
    expect(r.status).toBe(200);
    const body = JSON.parse(r.body) as {
      path: string;
      headers: Record<string, string>;
      pod: string;
    };
    expect(body.pod).toBe('backend-a');
    expect(body.path).toBe('/hello?x=1');
    expect(body.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(body.headers['x-forwarded-proto']).toBe('http');
    expect(body.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers 404 without a matching virtual host, 500 for an invalid backend, 503 without endpoints', async () => {
    expect((await get('/', 'other.example.com')).status).toBe(404);
    expect((await get('/missing')).status).toBe(500);
    expect((await get('/empty')).status).toBe(503);
  });

  it('reports what it applied', async () => {
    const dump = JSON.parse((await gw.admin('/config_dump')).body) as {
      ready: boolean;
      resources: Record<string, { name: string }[]>;
    };
    expect(dump.ready).toBe(true);
    expect(dump.resources.Listener!.map((l) => l.name)).toEqual([`http-${port}`]);
    expect(cp.server.nodes.get('gw-1')!.appliedVersion).toBe(cp.cache.get('default/gw')!.version);
  });
});
