// A Gateway's requested address (spec.addresses) through real gateway
// processes and sockets: the fleet's listeners name it, so a gateway that
// does not own it (192.0.2.1, TEST-NET-1) refuses the configuration; with
// --listen-any-address (GATEFLEET_LISTEN_ANY_ADDRESS, what the Kubernetes
// provisioner sets: the address is the Service's) it serves the same
// listeners on all interfaces.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/backends.js';
import { httpBackend, type HttpBackend } from '../support/forward-backends.js';
import { until } from '../support/forward-fixture.js';
import { ControlPlane, GatewayProcess } from '../support/gateway-harness.js';
import { httpGet } from '../support/http.js';
import { gateway, gatewayClass, httpListener, route, service } from '../support/k8s.js';

describe('gateway: listeners of a Gateway with a requested address', () => {
  const cp = new ControlPlane();
  let backend: HttpBackend;
  let port = 0;
  const gateways: GatewayProcess[] = [];

  beforeAll(async () => {
    backend = await httpBackend();
    port = await freePort();
    await cp.start([
      gatewayClass(),
      gateway('gw', [httpListener(port)], 'default', {
        addresses: [{ type: 'IPAddress', value: '192.0.2.1' }],
      }),
      route('r', {
        parentRefs: [{ name: 'gw' }],
        rules: [{ backendRefs: [{ name: 'b', port: 80 }] }],
      }),
      ...service('b', [backend.port]),
    ]);
  });

  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.stop()));
    await cp.close();
    await backend.close();
  });

  const start = (nodeId: string, env: Record<string, string> = {}) => {
    const g = new GatewayProcess(
      ['--xds', `127.0.0.1:${cp.port}`, '--fleet', 'default/gw', '--node-id', nodeId],
      env,
    );
    gateways.push(g);
    return g;
  };

  it('without --listen-any-address, binding the address it does not own is refused (NACK)', async () => {
    const g = start('own-address');
    await g.whenStarted();
    const nack = await until(() => {
      const types = cp.server.nodes.get('own-address')?.types ?? {};
      return Object.values(types).find((t) => t.lastNack)?.lastNack;
    }, 'the gateway to refuse the listeners');
    expect(nack.message).toMatch(/cannot listen on 192\.0\.2\.1 port \d+: EADDRNOTAVAIL/);
    await g.stop();
  });

  it('with GATEFLEET_LISTEN_ANY_ADDRESS=true, serves the listeners on all interfaces', async () => {
    const g = start('any-address', { GATEFLEET_LISTEN_ANY_ADDRESS: 'true' });
    await g.ready();
    const r = await httpGet(port, '/', 'app.example.com');
    expect(r.status).toBe(200);
  });
});
