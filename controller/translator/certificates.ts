// Validates the TLS Secrets that HTTPS listeners reference: the Secret must
// hold a PEM certificate chain and a private key that belongs to its first
// certificate. Results are memoised by content because the same Secret is
// checked on every translation.
import { X509Certificate, createHash, createPrivateKey } from 'node:crypto';
import type { Secret } from '../apis/types.js';

export type CertificateCheck =
  { ok: true; certificateChain: string; privateKey: string } | { ok: false; problem: string };

const memo = new Map<string, CertificateCheck>();
const MEMO_LIMIT = 10_000;

function secretValue(secret: Secret, field: string): string | undefined {
  const s = secret.stringData?.[field];
  if (typeof s === 'string') return s;
  const d = secret.data?.[field];
  if (typeof d !== 'string') return undefined;
  return Buffer.from(d, 'base64').toString('utf8');
}

export function checkTlsSecret(secret: Secret): CertificateCheck {
  if (secret.type !== undefined && secret.type !== 'kubernetes.io/tls') {
    return { ok: false, problem: `Secret type is "${secret.type}", not "kubernetes.io/tls"` };
  }
  const crt = secretValue(secret, 'tls.crt');
  const key = secretValue(secret, 'tls.key');
  if (!crt) return { ok: false, problem: 'Secret has no tls.crt' };
  if (!key) return { ok: false, problem: 'Secret has no tls.key' };
  const id = createHash('sha256').update(crt).update('\0').update(key).digest('hex');
  const cached = memo.get(id);
  if (cached) return cached;
  const result = validate(crt, key);
  if (memo.size >= MEMO_LIMIT) memo.clear();
  memo.set(id, result);
  return result;
}

function validate(crt: string, key: string): CertificateCheck {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(crt);
  } catch {
    return { ok: false, problem: 'tls.crt is not a PEM-encoded X.509 certificate' };
  }
  let pkey;
  try {
    pkey = createPrivateKey(key);
  } catch {
    return { ok: false, problem: 'tls.key is not a PEM-encoded private key' };
  }
  if (!cert.checkPrivateKey(pkey)) {
    return { ok: false, problem: 'tls.key does not match the certificate in tls.crt' };
  }
  return { ok: true, certificateChain: crt, privateKey: key };
}
