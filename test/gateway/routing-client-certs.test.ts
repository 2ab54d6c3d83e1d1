// Client certificate validation (Gateway spec.tls.frontend) through the
// translator, xDS and a real gateway, over real TLS connections: a port that
// allows valid certificates only refuses a client without one or with one
// from another CA; AllowInsecureFallback lets every client in; a port with no
// validation asks for nothing. Each port gets its own CA (perPort over
// default).
import { request, type RequestOptions } from 'node:https';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoBackend, freePort, type EchoBackend } from '../support/backends.js';
import { startFleet, type Fleet } from '../support/gateway-fleet.js';
import { gateway, gatewayClass, route, service } from '../support/k8s.js';
import {
  httpsListener,
  selfSignedCertificate,
  tlsSecret,
  type TestCertificate,
} from '../support/tls-certs.js';
import { makeCa, makeClientCert, tempDir, type Pem } from '../support/xds-pki.js';

const HOST = 'app.example.test';

function caConfigMap(name: string, ca: Pem): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: 'default' },
    data: { 'ca.crt': ca.cert },
  };
}

describe('routing: client certificate validation', () => {
  let backend: EchoBackend;
  let fleet: Fleet;
  let server: TestCertificate;
  let clientA: Pem;
  let clientB: Pem;
  const port = { validOnly: 0, fallback: 0, none: 0 };

  beforeAll(async () => {
    const dir = tempDir();
    const caA = makeCa(dir, 'ca-a');
    const caB = makeCa(dir, 'ca-b');
    clientA = makeClientCert(dir, 'client-a', caA, []);
    clientB = makeClientCert(dir, 'client-b', caB, []);
    server = selfSignedCertificate([HOST]);
    backend = await echoBackend('svc');
    port.validOnly = await freePort();
    port.fallback = await freePort();
    port.none = await freePort();
    const validation = (name: string, mode?: string) => ({
      validation: {
        caCertificateRefs: [{ kind: 'ConfigMap', group: '', name }],
        ...(mode ? { mode } : {}),
      },
    });
    fleet = await startFleet([
      gatewayClass(),
      gateway(
        'gw',
        [
          httpsListener(port.validOnly, 'valid-only', undefined, 'server'),
          httpsListener(port.fallback, 'fallback', undefined, 'server'),
          httpsListener(port.none, 'none', undefined, 'server'),
        ],
        'default',
        {
          tls: {
            frontend: {
              default: {},
              perPort: [
                { port: port.validOnly, tls: validation('ca-a') },
                { port: port.fallback, tls: validation('ca-b', 'AllowInsecureFallback') },
              ],
            },
          },
        },
      ),
      tlsSecret('server', server),
      caConfigMap('ca-a', caA),
      caConfigMap('ca-b', caB),
      ...service('svc', [backend.port]),
      route('r', {
        parentRefs: [{ name: 'gw' }],
        rules: [{ backendRefs: [{ name: 'svc', port: 80 }] }],
      }),
    ]);
  }, 30_000);

  afterAll(async () => {
    await fleet?.close();
    await backend?.close();
  });

  /** GET / over a fresh connection, presenting `client` when given: the status, or the error. */
  const get = (p: number, client?: Pem): Promise<number | string> =>
    new Promise((resolve) => {
      const opts: RequestOptions = {
        host: '127.0.0.1',
        port: p,
        servername: HOST,
        headers: { host: HOST },
        ca: server.cert,
        agent: false,
        ...(client ? { cert: client.cert, key: client.key } : {}),
      };
      const req = request(opts, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      req.end();
    });

  /**
   * The CA names the gateway sends in its CertificateRequest, or undefined
   * when it asks for no certificate (openssl s_client reports either).
   */
  const requestedCas = (p: number): string[] | undefined => {
    // It exits non-zero where the gateway then refuses the missing certificate.
    const out = spawnSync(
      'openssl',
      ['s_client', '-connect', `127.0.0.1:${p}`, '-servername', HOST],
      { input: '', timeout: 10_000 },
    ).stdout.toString();
    if (out.includes('No client certificate CA names sent')) return undefined;
    const names =
      /Acceptable client certificate CA names\n((?:.+\n)+?)(?:Requested|Client|Peer|Server|---)/.exec(
        out,
      );
    return names ? names[1]!.trim().split('\n') : [];
  };

  it('AllowValidOnly: a certificate from the CA passes, another CA or none is refused', async () => {
    expect(await get(port.validOnly, clientA)).toBe(200);
    expect(await get(port.validOnly, clientB)).not.toBe(200);
    expect(await get(port.validOnly)).not.toBe(200);
  });

  it('AllowInsecureFallback: any certificate, or none, passes', async () => {
    expect(await get(port.fallback, clientB)).toBe(200);
    expect(await get(port.fallback, clientA)).toBe(200);
    expect(await get(port.fallback)).toBe(200);
  });

  it('no validation on the port: a client needs no certificate', async () => {
    expect(await get(port.none)).toBe(200);
    expect(await get(port.none, clientB)).toBe(200);
  });

  it("asks for a certificate only on ports that validate them, naming the port's CA", () => {
    expect(requestedCas(port.validOnly)).toEqual(['CN = ca-a']);
    expect(requestedCas(port.fallback)).toEqual(['CN = ca-b']);
    expect(requestedCas(port.none)).toBeUndefined();
  });
});
