// Node-group client certificates issued from the xDS CA: what they carry
// (checked with openssl and node:crypto, not with the library that made
// them), that they chain to the CA, when they must be issued again, and the
// file-backed adapter the provisioner calls, including a missing ca.key.
import { execFileSync } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CaFileClientCertificates } from '../../../xds/tls/client-certificates.js';
import { XdsTlsErrorCode } from '../../../xds/tls/errors.js';
import { nodeGroupUri } from '../../../xds/tls/identity.js';
import {
  issueClientCertificate,
  needsRenewal,
  renewalReason,
  type ClientCertificateBundle,
} from '../../../xds/tls/issuer.js';
import { makeCa, tempDir, type Pem } from '../../support/xds-pki.js';

const DAY = 86_400_000;
const dir = tempDir();
const rsaCa = makeCa(dir, 'rsa-ca', 'rsa', 400);
const ecCa = makeCa(dir, 'ec-ca', 'ec', 400);
const otherCa = makeCa(dir, 'other-ca', 'ec', 400);
const shortCa = makeCa(dir, 'short-ca', 'ec', 10);
const noKeyIdCa = makeCa(dir, 'no-key-id-ca', 'ec', 400, false);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes a bundle to files and runs `openssl verify` against `caFile`. */
function opensslVerify(b: ClientCertificateBundle, caFile: string): string {
  const crt = join(dir, `leaf-${Math.random().toString(36).slice(2)}.crt`);
  writeFileSync(crt, b['tls.crt']);
  return execFileSync('openssl', ['verify', '-purpose', 'sslclient', '-CAfile', caFile, crt], {
    encoding: 'utf8',
    stdio: 'pipe',
  });
}

function opensslText(pem: string): string {
  return execFileSync('openssl', ['x509', '-noout', '-text'], { input: pem, encoding: 'utf8' });
}

const ca = (p: Pem) => ({ cert: p.cert, key: p.key });

describe('issueClientCertificate', () => {
  it.each([
    ['an RSA CA with a PKCS#1 key (Helm genCA)', rsaCa, 'sha256WithRSAEncryption'],
    ['an ECDSA P-256 CA', ecCa, 'ecdsa-with-SHA256'],
    ['a CA without key identifiers', noKeyIdCa, 'ecdsa-with-SHA256'],
  ])('issues from %s a certificate openssl verifies as a TLS client', async (_, caPem, alg) => {
    const b = await issueClientCertificate('team-a/web', ca(caPem));
    expect(opensslVerify(b, caPem.certPath)).toMatch(/: OK/);
    const text = opensslText(b['tls.crt']);
    expect(text).toContain(`Signature Algorithm: ${alg}`);
    expect(text).toMatch(/X509v3 Extended Key Usage:\s*\n\s*TLS Web Client Authentication\n/);
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s*\n\s*CA:FALSE/);
    expect(text).toMatch(/X509v3 Key Usage: critical\s*\n\s*Digital Signature\n/);
    expect(text).toContain(`URI:${nodeGroupUri('team-a/web')}`);
    expect(text).toContain('URI:spiffe://gatefleet.io/node-group/team-a%2Fweb');
    // The leaf key is ECDSA P-256 in PKCS#8 and matches the certificate.
    expect(b['tls.key']).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const key = createPrivateKey(b['tls.key']);
    expect(key.asymmetricKeyType).toBe('ec');
    expect(key.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(new X509Certificate(b['tls.crt']).checkPrivateKey(key)).toBe(true);
    expect(b['ca.crt']).toBe(caPem.cert);
    // Not verifiable against another CA.
    expect(() => opensslVerify(b, otherCa.certPath)).toThrow(/unable to get local issuer/);
  });

  it('encodes every kind of node group name in the SAN URI and only there', async () => {
    for (const group of ['ns/gw#shard-1', 'merged:shared', `ns/${'x'.repeat(80)}`]) {
      const b = await issueClientCertificate(group, ca(ecCa));
      const c = new X509Certificate(b['tls.crt']);
      expect(c.subjectAltName).toBe(
        `URI:spiffe://gatefleet.io/node-group/${encodeURIComponent(group)}`,
      );
      expect(c.subject).toBe(group.length <= 64 ? `CN=${group}` : 'CN=gatefleet-node-group');
    }
  });

  it('is valid from a little before now for validityDays, never past the CA', async () => {
    const now = new Date('2026-03-01T12:00:00Z');
    const caNow = new Date(Date.parse(new X509Certificate(ecCa.cert).validFrom) + DAY);
    const b = await issueClientCertificate('a/b', ca(ecCa), { now, validityDays: 7 });
    const c = new X509Certificate(b['tls.crt']);
    expect(Date.parse(c.validFrom)).toBe(now.getTime() - 5 * 60_000);
    expect(Date.parse(c.validTo)).toBe(now.getTime() + 7 * DAY);
    // Default 30 days, cut to the expiry of a CA that has less left.
    const short = await issueClientCertificate('a/b', ca(shortCa), { now: caNow });
    expect(new X509Certificate(short['tls.crt']).validTo).toBe(
      new X509Certificate(shortCa.cert).validTo,
    );
    const long = await issueClientCertificate('a/b', ca(ecCa), { now: caNow });
    expect(Date.parse(new X509Certificate(long['tls.crt']).validTo)).toBe(
      caNow.getTime() + 30 * DAY,
    );
    // Random 128-bit serials.
    expect(new X509Certificate(b['tls.crt']).serialNumber).toMatch(/^[0-9A-F]{32}$/);
    expect(new X509Certificate(b['tls.crt']).serialNumber).not.toBe(
      new X509Certificate(long['tls.crt']).serialNumber,
    );
  });

  it('signs with the CA of a bundle that the key belongs to, and hands out the whole bundle', async () => {
    const bundle = otherCa.cert + ecCa.cert;
    const bundleFile = join(dir, 'bundle.crt');
    writeFileSync(bundleFile, bundle);
    const b = await issueClientCertificate('a/b', { cert: bundle, key: ecCa.key });
    expect(b['ca.crt']).toBe(bundle);
    expect(opensslVerify(b, ecCa.certPath)).toMatch(/: OK/);
    expect(opensslVerify(b, bundleFile)).toMatch(/: OK/);
  });

  it('refuses a key that belongs to no CA certificate, or an expired CA', async () => {
    await expect(
      issueClientCertificate('a/b', { cert: ecCa.cert, key: otherCa.key }),
    ).rejects.toMatchObject({
      code: XdsTlsErrorCode.CaInvalid,
      message: /belongs to no certificate/,
    });
    await expect(
      issueClientCertificate('a/b', ca(shortCa), { now: new Date(Date.now() + 11 * DAY) }),
    ).rejects.toMatchObject({ code: XdsTlsErrorCode.CaInvalid, message: /expired/ });
  });
});

describe('renewal', () => {
  it('keeps a fresh certificate and renews at two thirds of its lifetime', async () => {
    const now = new Date();
    const b = await issueClientCertificate('a/b', ca(ecCa), { now, validityDays: 30 });
    const from = now.getTime() - 5 * 60_000;
    const to = now.getTime() + 30 * DAY;
    const twoThirds = from + ((to - from) * 2) / 3;
    expect(renewalReason(b, ecCa.cert, now, 'a/b')).toBeUndefined();
    expect(needsRenewal(b, ecCa.cert, new Date(twoThirds - 60_000), 'a/b')).toBe(false);
    expect(renewalReason(b, ecCa.cert, new Date(twoThirds + 60_000), 'a/b')).toMatch(/third/);
    expect(needsRenewal(b, ecCa.cert, new Date(to + 1), 'a/b')).toBe(true);
    expect(renewalReason(b, ecCa.cert, new Date(from - DAY), 'a/b')).toMatch(/not valid yet/);
  });

  it('renews when the CA changed, the group differs, the key does not match or anything is missing', async () => {
    const now = new Date();
    const b = await issueClientCertificate('a/b', ca(ecCa), { now });
    const other = await issueClientCertificate('a/b', ca(ecCa), { now });
    expect(renewalReason(b, otherCa.cert, now, 'a/b')).toBe('the CA changed');
    // Same ca.crt text but a certificate the current CA did not sign.
    const foreign = await issueClientCertificate('a/b', ca(otherCa), { now });
    expect(renewalReason({ ...foreign, 'ca.crt': ecCa.cert }, ecCa.cert, now, 'a/b')).toBe(
      'not signed by the current CA',
    );
    expect(renewalReason(b, ecCa.cert, now, 'a/c')).toMatch(/another node group \(a\/b\)/);
    expect(renewalReason({ ...b, 'tls.key': other['tls.key'] }, ecCa.cert, now, 'a/b')).toBe(
      'the key does not match',
    );
    expect(renewalReason(undefined, ecCa.cert, now)).toBe('no certificate yet');
    expect(renewalReason({ 'ca.crt': b['ca.crt'], 'tls.crt': b['tls.crt'] }, ecCa.cert)).toBe(
      'no certificate yet',
    );
    // A Secret's base64 data is read too.
    const b64 = Object.fromEntries(
      Object.entries(b).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
    );
    expect(renewalReason(b64, ecCa.cert, now, 'a/b')).toBeUndefined();
  });
});

describe('CaFileClientCertificates', () => {
  it('issues, keeps, and issues again when the CA files are rotated', async () => {
    const d = tempDir();
    const caCert = join(d, 'ca.crt');
    const caKey = join(d, 'ca.key');
    writeFileSync(caCert, ecCa.cert);
    writeFileSync(caKey, ecCa.key);
    const issued: string[] = [];
    const certs = new CaFileClientCertificates(
      { caCert, caKey },
      { onIssued: (g, why) => issued.push(`${g}: ${why}`) },
    );
    const first = await certs.issue('ns/gw#dmz');
    expect(first).not.toBe('keep');
    const bundle = first as ClientCertificateBundle;
    expect(opensslVerify(bundle, caCert)).toMatch(/: OK/);
    expect(await certs.issue('ns/gw#dmz', { ...bundle })).toBe('keep');
    writeFileSync(caCert, otherCa.cert);
    writeFileSync(caKey, otherCa.key);
    const again = (await certs.issue('ns/gw#dmz', { ...bundle })) as ClientCertificateBundle;
    expect(again['ca.crt']).toBe(otherCa.cert);
    expect(opensslVerify(again, otherCa.certPath)).toMatch(/: OK/);
    expect(issued).toEqual(['ns/gw#dmz: no certificate yet', 'ns/gw#dmz: the CA changed']);
    rmSync(d, { recursive: true, force: true });
  });

  it('reports a missing ca.key with its own code, and still keeps good certificates', async () => {
    const d = tempDir();
    const caCert = join(d, 'ca.crt');
    writeFileSync(caCert, ecCa.cert);
    const certs = new CaFileClientCertificates({ caCert, caKey: join(d, 'ca.key') });
    const err = await certs.issue('ns/gw').catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'XdsTlsError', code: XdsTlsErrorCode.CaKeyMissing });
    expect((err as Error).message).toContain('ns/gw');
    expect((err as Error).message).toContain('ca.key');
    const good = await issueClientCertificate('ns/gw', ca(ecCa));
    expect(await certs.issue('ns/gw', { ...good })).toBe('keep');
    const noCa = new CaFileClientCertificates({ caCert: join(d, 'nope.crt'), caKey: caCert });
    await expect(noCa.issue('ns/gw')).rejects.toMatchObject({ code: XdsTlsErrorCode.Files });
    rmSync(d, { recursive: true, force: true });
  });
});
