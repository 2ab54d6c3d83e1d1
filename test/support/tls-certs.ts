// Test certificates, made at test time with the openssl CLI (node:crypto
// cannot issue X.509 certificates): one self-signed certificate per name, and
// the Kubernetes objects an HTTPS listener refers to.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificate {
  /** PEM certificate; also the CA a client trusts to verify it. */
  cert: string;
  key: string;
}

/** A self-signed P-256 certificate for `hostnames` (the first is the subject CN). */
export function selfSignedCertificate(hostnames: string[]): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'gatefleet-cert-'));
  try {
    const key = join(dir, 'tls.key');
    const cert = join(dir, 'tls.crt');
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
        '2',
        '-subj',
        `/CN=${hostnames[0]!}`,
        '-addext',
        `subjectAltName=${hostnames.map((h) => `DNS:${h}`).join(',')}`,
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'pipe' },
    );
    return { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function tlsSecret(
  name: string,
  c: TestCertificate,
  namespace = 'default',
): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace },
    type: 'kubernetes.io/tls',
    data: {
      'tls.crt': Buffer.from(c.cert).toString('base64'),
      'tls.key': Buffer.from(c.key).toString('base64'),
    },
  };
}

export function httpsListener(
  port: number,
  name: string,
  hostname: string | undefined,
  secret: string,
): Record<string, unknown> {
  return {
    name,
    port,
    protocol: 'HTTPS',
    ...(hostname ? { hostname } : {}),
    tls: { mode: 'Terminate', certificateRefs: [{ kind: 'Secret', name: secret }] },
    allowedRoutes: { namespaces: { from: 'All' } },
  };
}
