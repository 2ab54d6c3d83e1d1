// Issuing a node group's xDS client certificate from the xDS CA, and deciding
// when one must be issued again.
//
// The certificate (contract, checked by xds/tls/identity.ts on the server):
// - key: ECDSA P-256, generated here, returned as PKCS#8 PEM (`tls.key`);
// - subject CN: the node group when it fits in 64 characters, else
//   `gatefleet-node-group` (the identity is the SAN, never the CN);
// - SAN: exactly one URI `spiffe://gatefleet.io/node-group/<encodeURIComponent(group)>`;
// - extended key usage clientAuth only; key usage digitalSignature;
//   basicConstraints CA:false (critical); subject and authority key ids;
// - validity: from 5 minutes before `now` (clock skew) for `validityDays`
//   (default 30), never past the CA's own expiry;
// - signed by the certificate in the CA bundle whose public key matches the
//   CA key, with SHA-256 (SHA-384/512 for P-384/P-521 CA keys). The CA key
//   may be RSA (Helm's genCA writes PKCS#1) or ECDSA, in any PEM encoding
//   node:crypto reads.
// `ca.crt` of the result is the whole CA bundle: during a CA rotation it
// holds the old and the new CA, and the gateway trusts both.
//
// X.509 issuance uses @peculiar/x509 (PeculiarVentures, on WebCrypto; node's
// crypto cannot create certificates). It needs a Reflect metadata polyfill.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import {
  createPrivateKey,
  createPublicKey,
  randomBytes,
  webcrypto,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { XdsTlsError, XdsTlsErrorCode } from './errors.js';
import { nodeGroupOfUri, nodeGroupUri, subjectAltNameUris } from './identity.js';
import { pemBlocks, pemText, samePem } from './pem.js';

export interface CaMaterial {
  /** PEM: the CA certificate, or a bundle holding it. */
  cert: string;
  /** PEM: the CA's private key. */
  key: string;
}

export interface ClientCertificateBundle {
  'ca.crt': string;
  'tls.crt': string;
  'tls.key': string;
}

export interface IssueOptions {
  validityDays?: number;
  now?: Date;
}

export const DEFAULT_CLIENT_CERT_VALIDITY_DAYS = 30;
const CLOCK_SKEW_MS = 5 * 60_000;
const DAY_MS = 86_400_000;
/** WebCrypto as @peculiar/x509 declares it (its types name the DOM's Crypto). */
const crypto = webcrypto as unknown as Parameters<typeof x509.X509CertificateGenerator.create>[1];
type SignAlgorithm = webcrypto.RsaHashedImportParams | webcrypto.EcKeyImportParams;

/** Issues `nodeGroup`'s client certificate. Throws XdsTlsError (GF_XDS_CA_INVALID) when the CA cannot issue. */
export async function issueClientCertificate(
  nodeGroup: string,
  ca: CaMaterial,
  opts: IssueOptions = {},
): Promise<ClientCertificateBundle> {
  if (nodeGroup === '') throw new XdsTlsError(XdsTlsErrorCode.CaInvalid, 'empty node group');
  const now = opts.now ?? new Date();
  const days = opts.validityDays ?? DEFAULT_CLIENT_CERT_VALIDITY_DAYS;
  if (!(days > 0)) throw new XdsTlsError(XdsTlsErrorCode.CaInvalid, `validity ${days} days`);
  const signer = caSigner(ca, now);
  const caKey = await webcrypto.subtle.importKey(
    'pkcs8',
    signer.key.export({ type: 'pkcs8', format: 'der' }),
    signer.algorithm,
    false,
    ['sign'],
  );
  const leafAlgorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const leaf = await webcrypto.subtle.generateKey(leafAlgorithm, true, ['sign', 'verify']);
  const caCert = new x509.X509Certificate(signer.cert.raw);
  const caKeyId = caCert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  const notAfter = Math.min(now.getTime() + days * DAY_MS, Date.parse(signer.cert.validTo));
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: serialNumber(),
      subject: [{ CN: [nodeGroup.length <= 64 ? nodeGroup : 'gatefleet-node-group'] }],
      issuer: caCert.subjectName,
      notBefore: new Date(now.getTime() - CLOCK_SKEW_MS),
      notAfter: new Date(notAfter),
      publicKey: leaf.publicKey,
      signingKey: caKey,
      signingAlgorithm: signer.algorithm,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth], false),
        new x509.SubjectAlternativeNameExtension([{ type: 'url', value: nodeGroupUri(nodeGroup) }]),
        await x509.SubjectKeyIdentifierExtension.create(leaf.publicKey, false, crypto),
        caKeyId
          ? new x509.AuthorityKeyIdentifierExtension(caKeyId)
          : await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', leaf.privateKey));
  return {
    'ca.crt': pemBlocks(ca.cert).join(''),
    'tls.crt': `${cert.toString('pem').trim()}\n`,
    'tls.key': x509.PemConverter.encode(pkcs8, 'PRIVATE KEY').trim() + '\n',
  };
}

/**
 * Why `existing` (a node group's Secret data: PEM or base64 of PEM) must be
 * issued again, or undefined when it can be kept: an entry is missing or
 * unreadable, the key does not match the certificate, the CA bundle changed,
 * the certificate was not signed by a CA of the current bundle, it does not
 * name exactly `nodeGroup` (when given), it is not valid yet, or less than a
 * third of its lifetime remains.
 */
export function renewalReason(
  existing: Partial<ClientCertificateBundle> | undefined,
  caCert: string,
  now: Date = new Date(),
  nodeGroup?: string,
): string | undefined {
  const caPem = pemText(existing?.['ca.crt']);
  const certPem = pemText(existing?.['tls.crt']);
  const keyPem = pemText(existing?.['tls.key']);
  if (!caPem || !certPem || !keyPem) return 'no certificate yet';
  if (!samePem(caPem, pemBlocks(caCert).join(''))) return 'the CA changed';
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) return 'the key does not match';
  } catch (e) {
    return `unreadable certificate or key: ${(e as Error).message}`;
  }
  const signedByCa = pemBlocks(caCert).some((p) => {
    try {
      return cert.verify(new X509Certificate(p).publicKey);
    } catch {
      return false;
    }
  });
  if (!signedByCa) return 'not signed by the current CA';
  if (nodeGroup !== undefined) {
    const groups = subjectAltNameUris(cert.subjectAltName).map(nodeGroupOfUri).filter(Boolean);
    if (groups.length !== 1 || groups[0] !== nodeGroup)
      return `issued for another node group (${groups.join(', ') || 'none'})`;
  }
  const from = Date.parse(cert.validFrom);
  const to = Date.parse(cert.validTo);
  const t = now.getTime();
  if (t < from) return 'not valid yet';
  if (to - t < (to - from) / 3) return 'less than a third of its lifetime left';
  return undefined;
}

/** renewalReason() !== undefined. */
export function needsRenewal(
  existing: Partial<ClientCertificateBundle> | undefined,
  caCert: string,
  now: Date = new Date(),
  nodeGroup?: string,
): boolean {
  return renewalReason(existing, caCert, now, nodeGroup) !== undefined;
}

interface Signer {
  cert: X509Certificate;
  key: KeyObject;
  algorithm: SignAlgorithm;
}

/** The CA certificate of the bundle that `ca.key` belongs to, and how it signs. */
function caSigner(ca: CaMaterial, now: Date): Signer {
  const invalid = (m: string) => new XdsTlsError(XdsTlsErrorCode.CaInvalid, m);
  let key: KeyObject;
  try {
    key = createPrivateKey(ca.key);
  } catch (e) {
    throw invalid(`the CA key cannot be read: ${(e as Error).message}`);
  }
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const cert = pemBlocks(ca.cert)
    .map((p) => new X509Certificate(p))
    .find((c) => c.publicKey.export({ type: 'spki', format: 'der' }).equals(spki));
  if (!cert) throw invalid('the CA key belongs to no certificate of the CA bundle');
  if (!cert.ca) throw invalid(`the CA certificate ${cert.subject} is not a CA (basicConstraints)`);
  if (now.getTime() >= Date.parse(cert.validTo))
    throw invalid(`the CA certificate expired on ${cert.validTo}`);
  return { cert, key, algorithm: signingAlgorithm(key, invalid) };
}

function signingAlgorithm(key: KeyObject, invalid: (m: string) => Error): SignAlgorithm {
  if (key.asymmetricKeyType === 'rsa') return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    const byCurve: Record<string, [string, string]> = {
      prime256v1: ['P-256', 'SHA-256'],
      secp384r1: ['P-384', 'SHA-384'],
      secp521r1: ['P-521', 'SHA-512'],
    };
    const c = curve === undefined ? undefined : byCurve[curve];
    if (c) return { name: 'ECDSA', namedCurve: c[0], hash: c[1] };
  }
  throw invalid(
    `the CA key type ${key.asymmetricKeyType}${key.asymmetricKeyDetails?.namedCurve ? ` (${key.asymmetricKeyDetails.namedCurve})` : ''} cannot sign (RSA or ECDSA P-256/384/521)`,
  );
}

/** 128 random bits, positive and without a leading zero octet (RFC 5280 §4.1.2.2). */
function serialNumber(): string {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x40;
  return b.toString('hex');
}
