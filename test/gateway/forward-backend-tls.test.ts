// BackendTLSPolicy through the translator, xDS and a real gateway, to a real
// TLS backend whose certificate (from a test CA) names abc.example.test and
// spiffe://abc.example.test/backend: the gateway sends the policy's hostname
// as SNI (not the request's Host), verifies the chain against the policy's
// CA and the name against the hostname or, when set, the subjectAltNames; a
// mismatch anywhere fails the request, and a policy without a valid CA sends
// nothing at all.
import { createServer, type Server } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/backends.js';
import { startFleet, type Fleet } from '../support/gateway-fleet.js';
import { gateway, gatewayClass, httpListener, route, service } from '../support/k8s.js';
import { makeBackendCert, makeCa, tempDir, type Pem } from '../support/xds-pki.js';

const FRONT_HOST = 'front.example.test';

function caConfigMap(name: string, ca: Pem): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: 'default' },
    data: { 'ca.crt': ca.cert },
  };
}

function policy(
  name: string,
  target: string,
  validation: Record<string, unknown>,
): Record<string, unknown> {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'BackendTLSPolicy',
    metadata: { name, namespace: 'default', creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: { targetRefs: [{ group: '', kind: 'Service', name: target }], validation },
  };
}

describe('forwarding: TLS to backends (BackendTLSPolicy)', () => {
  let backend: Server;
  let fleet: Fleet;
  let port = 0;
  /** The SNI of each request the backend answered, by path. */
  const seen = new Map<string, string | false | null>();

  beforeAll(async () => {
    const dir = tempDir();
    const ca = makeCa(dir, 'backend-ca');
    const otherCa = makeCa(dir, 'other-ca');
    const cert = makeBackendCert(dir, 'backend', ca, [
      'DNS:abc.example.test',
      'URI:spiffe://abc.example.test/backend',
    ]);
    backend = createServer({ cert: cert.cert, key: cert.key }, (req, res) => {
      seen.set(req.url ?? '', (req.socket as TLSSocket).servername);
      res.end('ok');
    });
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    const backendPort = (backend.address() as { port: number }).port;
    port = await freePort();
    const cases: [string, Record<string, unknown> | undefined][] = [
      ['valid', { hostname: 'abc.example.test', caCertificateRefs: [cm('ca')] }],
      ['host-mismatch', { hostname: 'other.example.test', caCertificateRefs: [cm('ca')] }],
      ['other-ca', { hostname: 'abc.example.test', caCertificateRefs: [cm('other-ca')] }],
      [
        'san-uri',
        {
          hostname: 'sni-only.example.test',
          caCertificateRefs: [cm('ca')],
          subjectAltNames: [{ type: 'URI', uri: 'spiffe://abc.example.test/backend' }],
        },
      ],
      [
        'san-mismatch',
        {
          hostname: 'abc.example.test',
          caCertificateRefs: [cm('ca')],
          subjectAltNames: [
            { type: 'URI', uri: 'spiffe://def.example.test/backend' },
            { type: 'Hostname', hostname: 'def.example.test' },
          ],
        },
      ],
      ['no-valid-ca', { hostname: 'abc.example.test', caCertificateRefs: [cm('missing')] }],
      ['no-policy', undefined],
    ];
    fleet = await startFleet([
      gatewayClass(),
      gateway('gw', [httpListener(port)]),
      caConfigMap('ca', ca),
      caConfigMap('other-ca', otherCa),
      ...cases.flatMap(([name, v]) => [
        ...service(name, [backendPort]),
        ...(v ? [policy(name, name, v)] : []),
      ]),
      route('r', {
        parentRefs: [{ name: 'gw' }],
        hostnames: [FRONT_HOST],
        rules: cases.map(([name]) => ({
          matches: [{ path: { type: 'Exact', value: `/${name}` } }],
          backendRefs: [{ name, port: 80 }],
        })),
      }),
    ]);
  }, 30_000);

  afterAll(async () => {
    await fleet?.close();
    backend?.closeAllConnections();
    await new Promise((r) => backend?.close(r));
  });

  const cm = (name: string) => ({ group: '', kind: 'ConfigMap', name });

  const get = (path: string): Promise<number | string> =>
    new Promise((resolve) => {
      const req = request(
        { host: '127.0.0.1', port, path, headers: { host: FRONT_HOST }, agent: false },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      req.end();
    });

  it('re-encrypts with the policy hostname as SNI, verified against the policy CA', async () => {
    expect(await get('/valid')).toBe(200);
    expect(seen.get('/valid')).toBe('abc.example.test');
  });

  it('a certificate that does not name the hostname fails the request', async () => {
    expect(await get('/host-mismatch')).toBeGreaterThanOrEqual(500);
    expect(seen.has('/host-mismatch')).toBe(false);
  });

  it('a certificate from another CA fails the request', async () => {
    expect(await get('/other-ca')).toBeGreaterThanOrEqual(500);
    expect(seen.has('/other-ca')).toBe(false);
  });

  it('subjectAltNames replace the hostname check; the hostname is still the SNI', async () => {
    expect(await get('/san-uri')).toBe(200);
    expect(seen.get('/san-uri')).toBe('sni-only.example.test');
    expect(await get('/san-mismatch')).toBeGreaterThanOrEqual(500);
    expect(seen.has('/san-mismatch')).toBe(false);
  });

  it('a policy without a valid CA sends nothing: 503', async () => {
    expect(await get('/no-valid-ca')).toBe(503);
    expect(seen.has('/no-valid-ca')).toBe(false);
  });

  it('a Service no policy targets gets plain text (which a TLS backend refuses)', async () => {
    expect(await get('/no-policy')).toBeGreaterThanOrEqual(500);
    expect(seen.has('/no-policy')).toBe(false);
  });
});
