// Rotating the xDS server's TLS files the way the kubelet updates a mounted
// Secret (a new `..<timestamp>` directory and an atomic rename of `..data`),
// with no restart: new connections get the new certificate (its serial is
// what a handshake sees), a stream opened before keeps receiving updates,
// files that do not fit together are ignored until fixed, and after a CA
// rotation only clients of the new CA get in.
import * as grpc from '@grpc/grpc-js';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCluster } from '../../../bench/fixtures.js';
import { inputsOf, translate } from '../../../controller/translator/index.js';
import { SnapshotCache } from '../../../xds/cache.js';
import { TypeUrl } from '../../../xds/proto/root.js';
import { publishIR } from '../../../xds/publish.js';
import { XdsServer } from '../../../xds/server/ads-server.js';
import { nodeGroupUri } from '../../../xds/tls/identity.js';
import { mtlsServerCredentials } from '../../../xds/tls/server-credentials.js';
import {
  channelCredentials,
  deltaStream,
  handshake,
  type DeltaTestStream,
} from '../../support/xds-mtls-client.js';
import {
  makeCa,
  makeClientCert,
  makeServerCert,
  SecretVolume,
  serialOf,
  tempDir,
  type Pem,
} from '../../support/xds-pki.js';

const A = 'infra/gw-0';

describe('rotating the xDS server TLS Secret without a restart', () => {
  const dir = tempDir();
  const ca1 = makeCa(dir, 'ca1', 'rsa');
  const ca2 = makeCa(dir, 'ca2', 'ec');
  const server1 = makeServerCert(dir, 'server1', ca1);
  const server2 = makeServerCert(dir, 'server2', ca1);
  const server3 = makeServerCert(dir, 'server3', ca2);
  const client1 = makeClientCert(dir, 'client1', ca1, [nodeGroupUri(A)]);
  const client2 = makeClientCert(dir, 'client2', ca2, [nodeGroupUri(A)]);
  // Clients trust both CAs, so a refusal is the server's verdict on them.
  const trust = ca1.cert + ca2.cert;
  const files = (ca: Pem, server: Pem, key = server.key) => ({
    'ca.crt': ca.cert,
    'tls.crt': server.cert,
    'tls.key': key,
  });
  const volume = new SecretVolume(join(dir, 'secret'), files(ca1, server1));
  const cache = new SnapshotCache();
  let objects = generateCluster({ routes: 4, namespaces: 2, gateways: 2 });
  const logs: { level: string; msg: string; [k: string]: unknown }[] = [];
  let server: XdsServer;
  let port: number;
  let existing: DeltaTestStream;
  const streams: { close(): void }[] = [];

  const publish = () => {
    const { ir } = translate(inputsOf(objects), { now: '2026-01-01T00:00:00Z' });
    const r = publishIR(ir, cache);
    expect(r.rejected).toEqual([]);
    return r.changed;
  };
  /** A change to A's clusters: svc-0 (routed by gw-0) switches protocol. */
  const changeClusters = (appProtocol: string) => {
    objects = objects.map((o) => {
      if (o.kind !== 'Service' || (o.metadata as { name: string }).name !== 'svc-0') return o;
      const spec = o.spec as { ports: Record<string, unknown>[] };
      return { ...o, spec: { ...spec, ports: spec.ports.map((p) => ({ ...p, appProtocol })) } };
    });
    expect(publish()).toContain(A);
  };
  const open = (c: Pem, id: string): DeltaTestStream => {
    const s = deltaStream(port, channelCredentials({ ca: trust, cert: c.cert, key: c.key }));
    streams.push(s);
    s.write({
      node: { id, cluster: A },
      type_url: TypeUrl.Cluster,
      resource_names_subscribe: ['*'],
    });
    return s;
  };
  const servedSerial = async (c: Pem) =>
    (await handshake(port, { ca: trust, cert: c.cert, key: c.key })).serverSerial;
  /** Waits for a CDS response on `s` at the snapshot's current version. */
  const currentCds = (s: DeltaTestStream) => {
    const version = cache.get(A)!.types.get(TypeUrl.Cluster)!.version;
    return s.waitFor(
      (r) => r.type_url === TypeUrl.Cluster && r.system_version_info === version,
      `CDS ${version}`,
    );
  };

  beforeAll(async () => {
    publish();
    server = new XdsServer({
      cache,
      credentials: mtlsServerCredentials(
        { ca: volume.path('ca.crt'), cert: volume.path('tls.crt'), key: volume.path('tls.key') },
        { refreshIntervalMs: 100, log: (level, msg, f) => logs.push({ level, msg, ...f }) },
      ),
      verifyNodeIdentity: true,
    });
    port = await server.listen('127.0.0.1:0');
    existing = open(client1, 'existing');
    await currentCds(existing);
  });

  afterAll(async () => {
    for (const s of streams) s.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves a new certificate to new connections while an open stream keeps working', async () => {
    expect(await servedSerial(client1)).toBe(serialOf(server1.cert));
    volume.write(files(ca1, server2));
    await expect.poll(() => servedSerial(client1), { timeout: 5_000 }).toBe(serialOf(server2.cert));
    expect(logs).toContainEqual(
      expect.objectContaining({
        msg: 'xDS TLS files changed',
        certificateSerial: serialOf(server2.cert),
      }),
    );
    changeClusters('kubernetes.io/h2c');
    await currentCds(existing);
    const fresh = open(client1, 'after-rotation');
    await currentCds(fresh);
  });

  it('keeps the current files while the new ones do not fit together', async () => {
    volume.write(files(ca1, server1, server2.key));
    await expect
      .poll(() => logs.some((l) => l.msg === 'xDS TLS files unusable; keeping the previous ones'), {
        timeout: 5_000,
      })
      .toBe(true);
    expect(logs.find((l) => l.level === 'warn')?.error).toMatch(/do not match/);
    const h = await handshake(port, { ca: trust, cert: client1.cert, key: client1.key });
    expect(h).toEqual({ serverSerial: serialOf(server2.cert) });
    volume.write(files(ca1, server1));
    await expect.poll(() => servedSerial(client1), { timeout: 5_000 }).toBe(serialOf(server1.cert));
  });

  it('after a CA rotation accepts only clients of the new CA; open streams stay', async () => {
    volume.write(files(ca2, server3));
    await expect.poll(() => servedSerial(client2), { timeout: 5_000 }).toBe(serialOf(server3.cert));
    const refused = await handshake(port, { ca: trust, cert: client1.cert, key: client1.key });
    expect(refused).toEqual({
      serverSerial: serialOf(server3.cert),
      error: 'closed by the server',
    });
    expect(await handshake(port, { ca: trust, cert: client2.cert, key: client2.key })).toEqual({
      serverSerial: serialOf(server3.cert),
    });
    const oldCa = open(client1, 'old-ca');
    expect((await oldCa.ended).code).toBe(grpc.status.UNAVAILABLE);
    const newCa = open(client2, 'new-ca');
    await currentCds(newCa);
    // The stream opened under the old CA is not cut off.
    changeClusters('kubernetes.io/ws');
    await currentCds(existing);
    await currentCds(newCa);
    expect(server.nodes.get('existing')?.nodeGroup).toBe(A);
  });
});
