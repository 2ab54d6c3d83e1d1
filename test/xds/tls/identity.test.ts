// The node-group identity in client certificates: its URI encoding, reading
// it from Node's rendering of a real certificate's subjectAltName (including
// an entry crafted to look like a second URI), and the per-stream check.
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  identityOfPeer,
  NodeIdentityGuard,
  nodeGroupOfUri,
  nodeGroupUri,
  subjectAltNameUris,
} from '../../../xds/tls/identity.js';
import { tempDir } from '../../support/xds-pki.js';

const dir = tempDir();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A real certificate with these SAN entries (openssl config syntax), as Node renders it. */
function certWithSan(name: string, entries: string[]): X509Certificate {
  writeFileSync(
    join(dir, `${name}.cnf`),
    `[req]\ndistinguished_name=dn\n[dn]\n[ext]\nsubjectAltName=@alt\nextendedKeyUsage=clientAuth\n[alt]\n${entries.join('\n')}\n`,
  );
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      `/CN=${name}`,
      '-config',
      `${name}.cnf`,
      '-extensions',
      'ext',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
    ],
    { cwd: dir, stdio: 'pipe' },
  );
  return new X509Certificate(readFileSync(join(dir, `${name}.crt`)));
}

/** The fields of a tls.PeerCertificate the identity is read from. */
function peer(c: X509Certificate) {
  return {
    raw: c.raw,
    subjectaltname: c.subjectAltName,
    serialNumber: c.serialNumber,
    fingerprint256: c.fingerprint256,
  } as unknown as Parameters<typeof identityOfPeer>[0];
}

describe('node group URIs', () => {
  it('round-trip every kind of node group name and reject non-canonical encodings', () => {
    for (const g of ['ns/gw', 'ns/gw#shard', 'merged:name', 'a b/ü']) {
      expect(nodeGroupOfUri(nodeGroupUri(g))).toBe(g);
    }
    expect(nodeGroupUri('ns/gw#dmz')).toBe('spiffe://gatefleet.io/node-group/ns%2Fgw%23dmz');
    expect(nodeGroupOfUri('spiffe://gatefleet.io/node-group/ns%2fgw')).toBeUndefined();
    expect(nodeGroupOfUri('spiffe://gatefleet.io/node-group/ns/gw')).toBeUndefined();
    expect(nodeGroupOfUri('spiffe://gatefleet.io/node-group/')).toBeUndefined();
    expect(nodeGroupOfUri('spiffe://gatefleet.io/node-group/%E0%A4%A')).toBeUndefined();
    expect(nodeGroupOfUri('spiffe://other.io/node-group/ns%2Fgw')).toBeUndefined();
  });

  it("reads URIs from Node's rendering, where a crafted entry cannot pose as a second URI", () => {
    const c = certWithSan('crafted', [
      'DNS.1=localhost',
      `URI.1=${nodeGroupUri('team/a')}`,
      `URI.2=spiffe://x, URI:${nodeGroupUri('team/b')}`,
      'IP.1=127.0.0.1',
    ]);
    expect(c.subjectAltName).toContain('URI:"spiffe://x\\u002c URI:');
    expect(subjectAltNameUris(c.subjectAltName)).toEqual([
      nodeGroupUri('team/a'),
      `spiffe://x, URI:${nodeGroupUri('team/b')}`,
    ]);
    expect(identityOfPeer(peer(c))).toMatchObject({ nodeGroup: 'team/a' });
  });

  it('finds no identity in a certificate with none, or with two node groups', () => {
    const none = certWithSan('none', ['DNS.1=localhost']);
    expect(identityOfPeer(peer(none))).toMatchObject({ problem: 'no_identity' });
    const two = certWithSan('two', [
      `URI.1=${nodeGroupUri('a/a')}`,
      `URI.2=${nodeGroupUri('b/b')}`,
    ]);
    expect(identityOfPeer(peer(two))).toMatchObject({
      problem: 'no_identity',
      detail: expect.stringContaining('more than one node group'),
    });
    expect(identityOfPeer(undefined)).toMatchObject({ problem: 'no_certificate' });
  });
});

describe('NodeIdentityGuard', () => {
  const id = { nodeGroup: 'ns/a', serial: '01', fingerprint256: 'AA' };

  it('binds the first claim that matches, then refuses another group', () => {
    const g = new NodeIdentityGuard(id);
    expect(g.check({ id: 'n' })).toBeUndefined(); // no claim yet: the stream decides
    expect(g.boundNodeGroup).toBeUndefined();
    expect(g.check({ id: 'n', cluster: 'ns/a' })).toBeUndefined();
    expect(g.boundNodeGroup).toBe('ns/a');
    expect(g.check(undefined)).toBeUndefined();
    expect(g.check({ id: 'n', cluster: '' })).toBeUndefined();
    expect(g.check({ id: 'n', cluster: 'ns/b' })).toMatchObject({
      reason: 'changed',
      claimed: 'ns/b',
      certified: 'ns/a',
    });
  });

  it('refuses a first claim of another group, naming both', () => {
    const r = new NodeIdentityGuard(id).check({ id: 'gw-1', cluster: 'ns/b' });
    expect(r).toEqual({
      reason: 'mismatch',
      claimed: 'ns/b',
      certified: 'ns/a',
      message:
        'node "gw-1" claims node group "ns/b" but its client certificate is for node group "ns/a"',
    });
  });

  it('refuses everything without a certified group', () => {
    const g = new NodeIdentityGuard({
      problem: 'no_certificate',
      detail: 'no verified client certificate',
    });
    expect(g.check({ id: 'n' })).toMatchObject({ reason: 'no_certificate' });
    expect(g.check({ id: 'n', cluster: 'ns/a' })).toMatchObject({
      reason: 'no_certificate',
      message: 'node group "ns/a" refused: no verified client certificate',
    });
  });
});
