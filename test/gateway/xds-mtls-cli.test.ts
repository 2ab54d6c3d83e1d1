// `gatefleet gateway` processes against an xDS server in Kubernetes mode
// (mTLS required, node identity checked, maximum connection age): a gateway
// with its node group's certificate (issued by the controller's issuer,
// mounted like a Secret) is configured and serves; when its Secret is
// rotated and the server closes the connection at its age, it reconnects
// with the new certificate, without a restart and without failing a
// request; a gateway whose certificate is for another node group is refused.
//
// Needs cli/gateway-command.ts to build the xDS credentials with
// xdsChannelCredentials() (cli/gateway-options.ts) instead of createSsl().
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inputsOf, translate } from '../../controller/translator/index.js';
import { SnapshotCache } from '../../xds/cache.js';
import { publishIR } from '../../xds/publish.js';
import { XdsServer } from '../../xds/server/ads-server.js';
import { CaFileClientCertificates } from '../../xds/tls/client-certificates.js';
import type { ClientCertificateBundle } from '../../xds/tls/issuer.js';
import { mtlsServerCredentials } from '../../xds/tls/server-credentials.js';
import { echoBackend, freePort, type EchoBackend } from '../support/backends.js';
import { eventually, GatewayProcess, runGatewayCli } from '../support/gateway-harness.js';
import { httpGet } from '../support/http.js';
import { appObjects, appliedNode, HOST } from '../support/lifecycle.js';
import { makeCa, makeServerCert, SecretVolume, serialOf, tempDir } from '../support/xds-pki.js';

const FLEET = 'default/mtls';
const MAX_AGE_MS = 1_500;
/** XdsServer lets a connection past its age finish its calls for 10 s. */
const GRACE_MS = 10_000;

interface Logged {
  level: string;
  msg: string;
  [k: string]: unknown;
}

describe('gateway processes over mTLS with certificate rotation', () => {
  const dir = tempDir();
  const ca = makeCa(dir, 'ca', 'rsa');
  const serverCert = makeServerCert(dir, 'server', ca);
  const certs = new CaFileClientCertificates({ caCert: ca.certPath, caKey: ca.keyPath });
  const cache = new SnapshotCache();
  const serverLogs: Logged[] = [];
  const gateways: GatewayProcess[] = [];
  let server: XdsServer;
  let backend: EchoBackend;
  let gwPort: number;
  let port: number;

  const verified = (serial: string) =>
    serverLogs.filter((l) => l.msg === 'xDS client certificate verified' && l.serial === serial);
  const secretFor = async (name: string, group: string) =>
    new SecretVolume(join(dir, name), {
      ...((await certs.issue(group)) as ClientCertificateBundle),
    });
  const spawnGateway = (nodeId: string, fleet: string, secret: SecretVolume) => {
    const g = new GatewayProcess(
      ['--xds', `127.0.0.1:${port}`, '--fleet', fleet, '--node-id', nodeId],
      {
        GATEFLEET_XDS_CA: secret.path('ca.crt'),
        GATEFLEET_XDS_CERT: secret.path('tls.crt'),
        GATEFLEET_XDS_KEY: secret.path('tls.key'),
      },
    );
    gateways.push(g);
    return g;
  };

  beforeAll(async () => {
    backend = await echoBackend('a');
    gwPort = await freePort();
    const { ir } = translate(
      inputsOf(appObjects({ name: 'mtls', port: gwPort, backendPort: backend.port })),
      { now: '2026-01-01T00:00:00Z' },
    );
    publishIR(ir, cache);
    server = new XdsServer({
      cache,
      credentials: mtlsServerCredentials(
        { ca: ca.certPath, cert: serverCert.certPath, key: serverCert.keyPath },
        { refreshIntervalMs: 200 },
      ),
      verifyNodeIdentity: true,
      maxConnectionAgeMs: MAX_AGE_MS,
      log: (level, msg, f) => serverLogs.push({ level, msg, ...f, at: Date.now() }),
    });
    port = await server.listen('127.0.0.1:0');
  });

  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.stop('SIGKILL')));
    await server.close();
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reconnects with its rotated certificate at the connection age, serving throughout', async () => {
    const secret = await secretFor('gw-secret', FLEET);
    const firstSerial = serialOf(readFileSync(secret.path('tls.crt'), 'utf8'));
    const gw = spawnGateway('cli-1', FLEET, secret);
    await gw.ready(20_000);
    await eventually(
      () => appliedNode(server, 'cli-1', cache.get(FLEET)!.version),
      'the gateway to apply its configuration',
    );
    expect(verified(firstSerial)).toHaveLength(1);
    expect((await httpGet(gwPort, '/', HOST)).status).toBe(200);

    const next = (await certs.issue(FLEET)) as ClientCertificateBundle;
    secret.write({ ...next });
    const nextSerial = serialOf(next['tls.crt']);
    const statuses = new Set<number>();
    await eventually(
      async () => {
        statuses.add((await httpGet(gwPort, '/', HOST)).status);
        return verified(nextSerial).length > 0;
      },
      'the gateway to reconnect with the rotated certificate',
      MAX_AGE_MS * 1.2 + GRACE_MS + 15_000,
      200,
    );
    expect([...statuses]).toEqual([200]);
    await gw.waitForLog((l) => l.msg === 'xDS TLS files changed; reconnecting with them');
    expect(gw.child.exitCode).toBeNull();
    expect((await gw.admin('/ready')).status).toBe(200);
    await eventually(
      () => appliedNode(server, 'cli-1', cache.get(FLEET)!.version),
      'the reconnected gateway to be in sync',
    );
  });

  it('refuses a gateway whose certificate is for another node group', async () => {
    const secret = await secretFor('other-secret', 'default/other');
    const gw = spawnGateway('cli-impostor', FLEET, secret);
    await gw.whenStarted();
    const broken = await gw.waitForLog(
      (l) =>
        l.msg === 'xDS stream broken; reconnecting' &&
        gw.logs.filter((x) => x.msg === l.msg).length >= 2,
      15_000,
    );
    expect(String(broken.why)).toContain(
      `claims node group "${FLEET}" but its client certificate is for node group "default/other"`,
    );
    expect(server.nodes.get('cli-impostor')).toBeUndefined();
    expect((await gw.admin('/ready')).status).toBe(503);
  });

  it('refuses to start with a certificate and key that do not match', async () => {
    const a = await secretFor('mismatch-a', FLEET);
    const b = await secretFor('mismatch-b', FLEET);
    const r = runGatewayCli([
      '--xds',
      `127.0.0.1:${port}`,
      '--fleet',
      FLEET,
      '--xds-ca',
      a.path('ca.crt'),
      '--xds-cert',
      a.path('tls.crt'),
      '--xds-key',
      b.path('tls.key'),
    ]);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^gatefleet gateway: GF_USAGE: --xds-ca\/--xds-cert\/--xds-key: /);
    expect(r.stderr).toContain('do not match');
  });
});
