// TLS to the xDS server, with a test PKI made by openssl at test time: a
// gateway given the server's CA (--xds-ca) is configured; with mutual TLS
// it also presents its certificate (--xds-cert, --xds-key); a gateway that
// trusts another CA, or that has no client certificate for a server that
// requires one, never connects and stays not ready.
import { ServerCredentials } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoBackend, freePort, type EchoBackend } from '../support/backends.js';
import { makePki, type TestPki } from '../support/certs.js';
import { ControlPlane, eventually, GatewayProcess } from '../support/gateway-harness.js';
import { httpGet } from '../support/http.js';
import { appObjects, appliedNode, HOST } from '../support/lifecycle.js';

describe('TLS to the xDS server', () => {
  const pki: TestPki = makePki();
  const credentials = (mutual: boolean) =>
    ServerCredentials.createSsl(
      mutual ? pki.read(pki.caCert) : null,
      [{ cert_chain: pki.read(pki.serverCert), private_key: pki.read(pki.serverKey) }],
      mutual,
    );
  const tls = new ControlPlane({ credentials: credentials(false) });
  const mtls = new ControlPlane({ credentials: credentials(true) });
  let a: EchoBackend;
  let tlsPort: number;
  let mtlsPort: number;
  const gateways: GatewayProcess[] = [];
  const spawnGw = (
    cp: ControlPlane,
    fleet: string,
    nodeId: string,
    extra: string[],
    env: Record<string, string> = {},
  ) => {
    const g = new GatewayProcess(
      ['--xds', `127.0.0.1:${cp.port}`, '--fleet', fleet, '--node-id', nodeId, ...extra],
      env,
    );
    gateways.push(g);
    return g;
  };

  beforeAll(async () => {
    a = await echoBackend('a');
    [tlsPort, mtlsPort] = [await freePort(), await freePort()];
    await tls.start(appObjects({ name: 'tls', port: tlsPort, backendPort: a.port }));
    await mtls.start(appObjects({ name: 'mtls', port: mtlsPort, backendPort: a.port }));
  });

  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.stop('SIGKILL')));
    await Promise.all([tls.close(), mtls.close()]);
    await a.close();
  });

  /** Waits until the gateway has failed to connect a few times, then checks it never did. */
  async function neverConnects(gw: GatewayProcess, cp: ControlPlane, nodeId: string, why: RegExp) {
    await gw.whenStarted();
    const failure = await gw.waitForLog(
      (l) =>
        l.msg === 'xDS stream broken; reconnecting' &&
        gw.logs.filter((x) => x.msg === l.msg).length >= 3,
    );
    expect(String(failure.why)).toMatch(why);
    expect(cp.server.nodes.get(nodeId)).toBeUndefined();
    expect(gw.logs.some((l) => l.msg === 'xDS stream up')).toBe(false);
    expect((await gw.admin('/ready')).status).toBe(503);
  }

  it('configures a gateway that verifies the server with --xds-ca', async () => {
    const gw = spawnGw(tls, 'default/tls', 'tls-1', ['--xds-ca', pki.caCert]);
    await gw.ready();
    await eventually(
      () => appliedNode(tls.server, 'tls-1', tls.cache.get('default/tls')!.version),
      'the ACKs',
    );
    expect((await httpGet(tlsPort, '/', HOST)).status).toBe(200);
  });

  it('does not connect to a server whose certificate another CA signed', async () => {
    const gw = spawnGw(tls, 'default/tls', 'tls-wrong-ca', ['--xds-ca', pki.otherCaCert]);
    await neverConnects(gw, tls, 'tls-wrong-ca', /unable to verify the first certificate/);
  });

  it('does not connect when the certificate does not name --xds-server-name', async () => {
    const gw = spawnGw(tls, 'default/tls', 'tls-wrong-name', [
      '--xds-ca',
      pki.caCert,
      '--xds-server-name',
      'elsewhere.example',
    ]);
    await neverConnects(gw, tls, 'tls-wrong-name', /ERR_TLS_CERT_ALTNAME_INVALID/);
  });

  it('configures a gateway over mutual TLS with --xds-cert and --xds-key (and --xds-server-name)', async () => {
    const gw = spawnGw(
      mtls,
      'default/mtls',
      'mtls-1',
      ['--xds-server-name', 'xds.gatefleet.test'],
      {
        GATEFLEET_XDS_CA: pki.caCert,
        GATEFLEET_XDS_CERT: pki.clientCert,
        GATEFLEET_XDS_KEY: pki.clientKey,
      },
    );
    await gw.ready();
    await eventually(
      () => appliedNode(mtls.server, 'mtls-1', mtls.cache.get('default/mtls')!.version),
      'the ACKs',
    );
    expect((await httpGet(mtlsPort, '/', HOST)).status).toBe(200);
  });

  it('is refused by a server requiring a client certificate when it has none', async () => {
    const gw = spawnGw(mtls, 'default/mtls', 'mtls-no-cert', ['--xds-ca', pki.caCert]);
    await neverConnects(gw, mtls, 'mtls-no-cert', /certificate required/);
  });
});
