// The xDS server in Kubernetes mode, over real TLS on loopback: clients
// without an acceptable certificate are refused by the TLS layer before any
// stream exists; a client whose certificate is for node group A gets A's
// configuration, and PERMISSION_DENIED (and nothing else) when it claims B,
// on state-of-the-world and delta ADS alike, or when it switches groups
// mid-stream. Without verifyNodeIdentity (standalone mode) no check is made.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCluster } from '../../../bench/fixtures.js';
import { inputsOf, translate } from '../../../controller/translator/index.js';
import { SnapshotCache } from '../../../xds/cache.js';
import { TypeUrl } from '../../../xds/proto/root.js';
import { publishIR } from '../../../xds/publish.js';
import { XdsServer } from '../../../xds/server/ads-server.js';
import { nodeGroupUri } from '../../../xds/tls/identity.js';
import { issueClientCertificate } from '../../../xds/tls/issuer.js';
import { mtlsServerCredentials } from '../../../xds/tls/server-credentials.js';
import {
  channelCredentials,
  deltaStream,
  handshake,
  sotwStream,
} from '../../support/xds-mtls-client.js';
import {
  makeCa,
  makeClientCert,
  makeServerCert,
  serialOf,
  tempDir,
} from '../../support/xds-pki.js';

const A = 'infra/gw-0';
const B = 'infra/gw-1';

interface Logged {
  level: string;
  msg: string;
  [k: string]: unknown;
}

describe('xDS server with mTLS and node identity', () => {
  const dir = tempDir();
  const ca = makeCa(dir, 'ca', 'rsa');
  const otherCa = makeCa(dir, 'other-ca', 'ec');
  const serverCert = makeServerCert(dir, 'server', ca);
  const clientA = makeClientCert(dir, 'client-a', ca, [nodeGroupUri(A)]);
  const clientNoIdentity = makeClientCert(dir, 'client-none', ca, ['spiffe://example.org/x']);
  const clientOtherCa = makeClientCert(dir, 'client-other', otherCa, [nodeGroupUri(A)]);
  const serverOnly = makeServerCert(dir, 'server-only', ca); // serverAuth EKU, no clientAuth
  const cache = new SnapshotCache();
  const logs: Logged[] = [];
  let server: XdsServer;
  let open: XdsServer;
  let port: number;
  let openPort: number;
  let expired: { cert: string; key: string };
  const streams: { close(): void }[] = [];
  const creds = (c?: { cert: string; key: string }) =>
    channelCredentials({ ca: ca.cert, ...(c ? { cert: c.cert, key: c.key } : {}) });
  const track = <S extends { close(): void }>(s: S): S => {
    streams.push(s);
    return s;
  };
  const names = (group: string, type: string) => [
    ...cache
      .get(group)!
      .types.get(type as never)!
      .resources.keys(),
  ];

  beforeAll(async () => {
    const objects = generateCluster({ routes: 4, namespaces: 2, gateways: 2 });
    const { ir } = translate(inputsOf(objects), { now: '2026-01-01T00:00:00Z' });
    expect(publishIR(ir, cache).rejected).toEqual([]);
    // Sanity: the two groups' configurations differ.
    expect(names(A, TypeUrl.Cluster).some((n) => names(B, TypeUrl.Cluster).includes(n))).toBe(
      false,
    );
    const issued = await issueClientCertificate(
      A,
      { cert: ca.cert, key: ca.key },
      { now: new Date(Date.now() - 10 * 86_400_000), validityDays: 1 },
    );
    expired = { cert: issued['tls.crt'], key: issued['tls.key'] };
    const files = { ca: ca.certPath, cert: serverCert.certPath, key: serverCert.keyPath };
    server = new XdsServer({
      cache,
      credentials: mtlsServerCredentials(files),
      verifyNodeIdentity: true,
      log: (level, msg, fields) => logs.push({ level, msg, ...fields }),
    });
    port = await server.listen('127.0.0.1:0');
    open = new XdsServer({ cache, credentials: mtlsServerCredentials(files) });
    openPort = await open.listen('127.0.0.1:0');
  });

  afterAll(async () => {
    for (const s of streams) s.close();
    await Promise.all([server.close(), open.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  /** `openssl verify` of a client certificate against the CA. */
  function opensslVerify(certPem: string): string {
    const r = spawnSync('openssl', ['verify', '-purpose', 'sslclient', '-CAfile', ca.certPath], {
      input: certPem,
      encoding: 'utf8',
    });
    return r.stdout + r.stderr;
  }

  async function rejections(): Promise<string> {
    const m = await server.metrics.identityRejections.get();
    return m.values
      .map((v) => `${v.labels.reason}/${v.labels.certified_node_group}=${v.value}`)
      .sort()
      .join(' ');
  }

  describe('refused at the TLS layer', () => {
    // How openssl judges each certificate against the CA proves the test
    // certificates are what the case says; the server must refuse them all.
    it.each([
      ['no certificate', undefined, undefined, /certificate required/],
      [
        'a certificate from another CA',
        () => clientOtherCa,
        /unable to get local issuer/,
        /closed by the server/,
      ],
      ['an expired certificate', () => expired, /certificate has expired/, /closed by the server/],
      [
        'a certificate without clientAuth',
        () => serverOnly,
        /unsuitable certificate purpose/,
        /closed by the server/,
      ],
    ] as [string, (() => { cert: string; key: string }) | undefined, RegExp | undefined, RegExp][])(
      '%s',
      async (_, cert, opensslSays, handshakeError) => {
        const c = cert?.();
        if (c) expect(opensslVerify(c.cert)).toMatch(opensslSays!);
        const h = await handshake(port, {
          ca: ca.cert,
          ...(c ? { cert: c.cert, key: c.key } : {}),
        });
        expect(h.serverSerial).toBe(serialOf(serverCert.cert));
        expect(h.error).toMatch(handshakeError);
        const s = track(deltaStream(port, creds(c)));
        s.write({ node: { id: 'tls-refused', cluster: A }, type_url: TypeUrl.Cluster });
        const end = await s.ended;
        expect(end.code).toBe(grpc.status.UNAVAILABLE);
        expect(s.responses).toEqual([]);
        expect(server.nodes.get('tls-refused')).toBeUndefined();
        expect(await rejections()).toBe(''); // no stream ever reached the server
      },
    );

    it('while a client with a good certificate completes the handshake', async () => {
      expect(opensslVerify(clientA.cert)).toMatch(/: OK/);
      const h = await handshake(port, { ca: ca.cert, cert: clientA.cert, key: clientA.key });
      expect(h.error).toBeUndefined();
      expect(h.serverSerial).toBe(serialOf(serverCert.cert));
    });
  });

  describe('node identity', () => {
    it('serves A its snapshot over SotW and delta when its certificate says A', async () => {
      const sotw = track(sotwStream(port, creds(clientA)));
      sotw.write({
        node: { id: 'a-sotw', cluster: A },
        type_url: TypeUrl.Cluster,
        resource_names: [],
      });
      const cds = await sotw.waitFor((r) => r.type_url === TypeUrl.Cluster, 'SotW CDS');
      expect(cds.version_info).toBe(cache.get(A)!.types.get(TypeUrl.Cluster)!.version);
      expect(cds.resources).toHaveLength(names(A, TypeUrl.Cluster).length);

      const delta = track(deltaStream(port, creds(clientA)));
      delta.write({
        node: { id: 'a-delta', cluster: A },
        type_url: TypeUrl.Cluster,
        resource_names_subscribe: ['*'],
      });
      const dcds = await delta.waitFor((r) => r.type_url === TypeUrl.Cluster, 'delta CDS');
      expect(dcds.resources!.map((r) => r.name).sort()).toEqual(names(A, TypeUrl.Cluster).sort());
      expect(server.nodes.get('a-sotw')?.nodeGroup).toBe(A);
      expect(server.nodes.get('a-delta')?.nodeGroup).toBe(A);
      expect(logs).toContainEqual(
        expect.objectContaining({
          msg: 'xDS client certificate verified',
          node: 'a-delta',
          nodeGroup: A,
          serial: serialOf(clientA.cert),
        }),
      );
    });

    it.each(['sotw', 'delta'] as const)(
      'refuses over %s a certificate for A claiming B, sending nothing of B',
      async (mode) => {
        const before = logs.length;
        const id = `a-claims-b-${mode}`;
        const s =
          mode === 'sotw'
            ? track(sotwStream(port, creds(clientA)))
            : track(deltaStream(port, creds(clientA)));
        for (const type_url of [TypeUrl.Cluster, TypeUrl.Listener]) {
          if (mode === 'sotw')
            (s as ReturnType<typeof sotwStream>).write({
              node: { id, cluster: B },
              type_url,
              resource_names: [],
            });
          else
            (s as ReturnType<typeof deltaStream>).write({
              node: { id, cluster: B },
              type_url,
              resource_names_subscribe: ['*'],
            });
        }
        const end = await s.ended;
        expect(end.code).toBe(grpc.status.PERMISSION_DENIED);
        expect(end.details).toContain(`claims node group "${B}"`);
        expect(end.details).toContain(`client certificate is for node group "${A}"`);
        expect(s.responses).toEqual([]);
        expect(server.nodes.get(id)).toBeUndefined();
        expect(logs.slice(before)).toContainEqual(
          expect.objectContaining({
            level: 'warn',
            msg: 'xDS stream refused: node identity',
            reason: 'mismatch',
            claimed: B,
            certified: A,
            node: id,
          }),
        );
      },
    );

    it('refuses a node that switches to another group mid-stream', async () => {
      const s = track(deltaStream(port, creds(clientA)));
      s.write({
        node: { id: 'a-switch', cluster: A },
        type_url: TypeUrl.Cluster,
        resource_names_subscribe: ['*'],
      });
      const cds = await s.waitFor((r) => r.type_url === TypeUrl.Cluster, 'delta CDS');
      s.write({ type_url: TypeUrl.Cluster, response_nonce: cds.nonce! }); // ACK, no node: fine
      s.write({
        node: { id: 'a-switch', cluster: B },
        type_url: TypeUrl.Listener,
        resource_names_subscribe: ['*'],
      });
      const end = await s.ended;
      expect(end.code).toBe(grpc.status.PERMISSION_DENIED);
      expect(end.details).toContain(`from "${A}" to "${B}"`);
      expect(s.responses.every((r) => r.type_url === TypeUrl.Cluster)).toBe(true);
      await expect.poll(() => server.nodes.get('a-switch'), { timeout: 3_000 }).toBeUndefined();
    });

    it('refuses a CA-signed certificate that names no node group', async () => {
      const s = track(sotwStream(port, creds(clientNoIdentity)));
      s.write({
        node: { id: 'no-identity', cluster: A },
        type_url: TypeUrl.Cluster,
        resource_names: [],
      });
      const end = await s.ended;
      expect(end.code).toBe(grpc.status.PERMISSION_DENIED);
      expect(end.details).toMatch(/names no node group/);
      expect(s.responses).toEqual([]);
    });

    it('counts every refusal by reason and certified group', async () => {
      expect(await rejections()).toBe('changed/infra/gw-0=1 mismatch/infra/gw-0=2 no_identity/=1');
      const text = await server.metrics.registry.metrics();
      expect(text).toContain(
        'gatefleet_xds_identity_rejections_total{reason="mismatch",certified_node_group="infra/gw-0"} 2',
      );
    });

    it('checks nothing without verifyNodeIdentity (standalone mode)', async () => {
      const s = track(deltaStream(openPort, creds(clientA)));
      s.write({
        node: { id: 'open-b', cluster: B },
        type_url: TypeUrl.Cluster,
        resource_names_subscribe: ['*'],
      });
      const cds = await s.waitFor((r) => r.type_url === TypeUrl.Cluster, 'delta CDS');
      expect(cds.resources!.map((r) => r.name).sort()).toEqual(names(B, TypeUrl.Cluster).sort());
    });
  });
});
