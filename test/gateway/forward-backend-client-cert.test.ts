// A Gateway's backend client certificate (spec.tls.backend.clientCertificateRef)
// through the translator, xDS (SDS) and a real gateway, to a real TLS backend
// that requires a client certificate from a test CA: the gateway presents the
// Secret's certificate on its BackendTLSPolicy connections, the backend sees
// exactly that certificate, and a Gateway without one is refused by the same
// backend during the handshake.
import { createServer, type Server } from 'node:https';
import { request } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/backends.js';
import { startFleet, type Fleet } from '../support/gateway-fleet.js';
import { gateway, gatewayClass, httpListener, route, service } from '../support/k8s.js';
import { makeBackendCert, makeCa, makeClientCert, tempDir, type Pem } from '../support/xds-pki.js';

const FRONT_HOST = 'front.example.test';

function tlsSecret(name: string, pem: Pem): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: 'default' },
    type: 'kubernetes.io/tls',
    stringData: { 'tls.crt': pem.cert, 'tls.key': pem.key },
  };
}

function backendObjects(backendPort: number, ca: Pem): Record<string, unknown>[] {
  return [
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'ca', namespace: 'default' },
      data: { 'ca.crt': ca.cert },
    },
    ...service('secure', [backendPort]),
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'BackendTLSPolicy',
      metadata: { name: 'secure', namespace: 'default', creationTimestamp: '2026-01-01T00:00:00Z' },
      spec: {
        targetRefs: [{ group: '', kind: 'Service', name: 'secure' }],
        validation: {
          hostname: 'abc.example.test',
          caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'ca' }],
        },
      },
    },
  ];
}

describe('forwarding: the Gateway presents its backend client certificate', () => {
  let backend: Server;
  let withCert: Fleet;
  let withoutCert: Fleet;
  let portWith = 0;
  let portWithout = 0;
  let client: Pem;
  /** The fingerprint of the client certificate each answered request came with. */
  const presented: string[] = [];

  beforeAll(async () => {
    const dir = tempDir();
    const ca = makeCa(dir, 'backend-ca');
    const cert = makeBackendCert(dir, 'backend', ca, ['DNS:abc.example.test']);
    client = makeClientCert(dir, 'gateway-client', ca, []);
    backend = createServer(
      { cert: cert.cert, key: cert.key, ca: ca.cert, requestCert: true, rejectUnauthorized: true },
      (req, res) => {
        presented.push((req.socket as TLSSocket).getPeerCertificate().fingerprint256);
        res.end('ok');
      },
    );
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    const backendPort = (backend.address() as { port: number }).port;
    portWith = await freePort();
    portWithout = await freePort();
    const routeTo = (gw: string) =>
      route(`r-${gw}`, {
        parentRefs: [{ name: gw }],
        hostnames: [FRONT_HOST],
        rules: [{ backendRefs: [{ name: 'secure', port: 80 }] }],
      });
    const common = [
      gatewayClass(),
      tlsSecret('client', client),
      ...backendObjects(backendPort, ca),
    ];
    withCert = await startFleet([
      ...common,
      gateway('gw', [httpListener(portWith)], 'default', {
        tls: { backend: { clientCertificateRef: { group: '', kind: 'Secret', name: 'client' } } },
      }),
      routeTo('gw'),
    ]);
    withoutCert = await startFleet(
      [...common, gateway('plain', [httpListener(portWithout)]), routeTo('plain')],
      'default/plain',
    );
  }, 40_000);

  afterAll(async () => {
    await withCert?.close();
    await withoutCert?.close();
    backend?.closeAllConnections();
    await new Promise((r) => backend?.close(r));
  });

  const get = (port: number): Promise<number | string> =>
    new Promise((resolve) => {
      const req = request(
        { host: '127.0.0.1', port, path: '/', headers: { host: FRONT_HOST }, agent: false },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      req.end();
    });

  it('presents the Secret certificate to a backend that requires one', async () => {
    expect(await get(portWith)).toBe(200);
    expect(presented).toEqual([new X509Certificate(client.cert).fingerprint256]);
  });

  it('a Gateway without a clientCertificateRef presents none, and the backend refuses it', async () => {
    const before = presented.length;
    expect(await get(portWithout)).toBeGreaterThanOrEqual(500);
    expect(presented.length).toBe(before);
  });
});
