// The gateway's ADS client over mTLS with credentials that re-read their
// files: when the server closes the connection at its maximum age, the
// client reconnects with the certificate it finds in its (rotated) Secret
// volume, and the server verifies the new certificate's serial. Files that
// are unusable at a reconnection leave the previous certificate in use.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCluster } from '../../bench/fixtures.js';
import { inputsOf, translate } from '../../controller/translator/index.js';
import { AdsClient } from '../../gateway/xds/ads-client.js';
import { SnapshotCache } from '../../xds/cache.js';
import { publishIR } from '../../xds/publish.js';
import { XdsServer } from '../../xds/server/ads-server.js';
import { CaFileClientCertificates } from '../../xds/tls/client-certificates.js';
import { reloadingChannelCredentials } from '../../xds/tls/client-credentials.js';
import type { ClientCertificateBundle } from '../../xds/tls/issuer.js';
import { mtlsServerCredentials } from '../../xds/tls/server-credentials.js';
import { eventually } from '../support/gateway-harness.js';
import { makeCa, makeServerCert, SecretVolume, serialOf, tempDir } from '../support/xds-pki.js';

const A = 'infra/gw-0';
const MAX_AGE_MS = 1_500;
/** XdsServer lets a connection past its age finish its calls for 10 s. */
const GRACE_MS = 10_000;

interface Logged {
  level: string;
  msg: string;
  [k: string]: unknown;
}

describe('ADS client mTLS credentials across reconnections', () => {
  const dir = tempDir();
  const ca = makeCa(dir, 'ca', 'rsa');
  const serverCert = makeServerCert(dir, 'server', ca);
  const certs = new CaFileClientCertificates({ caCert: ca.certPath, caKey: ca.keyPath });
  const cache = new SnapshotCache();
  const serverLogs: Logged[] = [];
  const clientLogs: Logged[] = [];
  let server: XdsServer;
  let port: number;
  let volume: SecretVolume;
  let client: AdsClient;

  const startServer = async (p = 0) => {
    server = new XdsServer({
      cache,
      credentials: mtlsServerCredentials({
        ca: ca.certPath,
        cert: serverCert.certPath,
        key: serverCert.keyPath,
      }),
      verifyNodeIdentity: true,
      maxConnectionAgeMs: MAX_AGE_MS,
      log: (level, msg, f) => serverLogs.push({ level, msg, ...f, at: Date.now() }),
    });
    port = await server.listen(`127.0.0.1:${p}`);
  };
  const verified = (serial: string) =>
    serverLogs.filter((l) => l.msg === 'xDS client certificate verified' && l.serial === serial);
  const issue = async () => (await certs.issue(A)) as ClientCertificateBundle;

  beforeAll(async () => {
    const { ir } = translate(inputsOf(generateCluster({ routes: 2, namespaces: 1, gateways: 1 })), {
      now: '2026-01-01T00:00:00Z',
    });
    publishIR(ir, cache);
    await startServer();
    volume = new SecretVolume(join(dir, 'gateway-secret'), { ...(await issue()) });
  });

  afterAll(async () => {
    client?.stop();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reconnects at the maximum connection age with the rotated certificate', async () => {
    const firstSerial = serialOf(readFileSync(volume.path('tls.crt'), 'utf8'));
    client = new AdsClient({
      address: `127.0.0.1:${port}`,
      nodeId: 'gw-1',
      nodeGroup: A,
      mode: 'delta',
      credentials: reloadingChannelCredentials({
        ca: volume.path('ca.crt'),
        cert: volume.path('tls.crt'),
        key: volume.path('tls.key'),
      }),
      apply: () => Promise.resolve({}),
      heldVersions: () => new Map(),
      log: (level, msg, f) => clientLogs.push({ level, msg, ...f, at: Date.now() }),
      backoff: { baseMs: 50, maxMs: 200 },
    });
    client.start();
    const up = await eventually(() => verified(firstSerial)[0], 'the first certificate', 10_000);
    const next = await issue();
    volume.write({ ...next });
    const nextSerial = serialOf(next['tls.crt']);
    expect(nextSerial).not.toBe(firstSerial);
    const again = await eventually(
      () => verified(nextSerial)[0],
      'the rotated certificate',
      MAX_AGE_MS * 1.2 + GRACE_MS + 10_000,
    );
    // The stream was not cut by the rotation, but by the connection's age.
    expect((again.at as number) - (up.at as number)).toBeGreaterThanOrEqual(MAX_AGE_MS);
    const msgs = clientLogs.map((l) => l.msg);
    expect(msgs).toContain('xDS stream broken; reconnecting');
    expect(msgs).toContain('xDS TLS files changed; reconnecting with them');
    expect(server.nodes.get('gw-1')?.nodeGroup).toBe(A);
  });

  it('keeps the previous certificate when the files are unusable at a reconnection', async () => {
    const current = serialOf(readFileSync(volume.path('tls.crt'), 'utf8'));
    const before = verified(current).length;
    volume.write({ ...(await issue()), 'tls.key': 'not a key\n' });
    // A controller restart on the same port: every stream breaks at once.
    await server.close();
    await startServer(port);
    await eventually(
      () => verified(current).length > before,
      'a reconnection with the previous certificate',
      15_000,
    );
    expect(clientLogs).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        msg: 'xDS TLS files unusable; keeping the previous credentials',
        error: expect.stringContaining('tls.key'),
      }),
    );
  });
});
