// xDS mTLS test PKI made with the openssl CLI (independent of the issuer
// under test): CAs (RSA with a PKCS#1 key as Helm's genCA writes, or ECDSA),
// server certificates for 127.0.0.1, client certificates with chosen URI
// SANs; and a directory laid out like a mounted Secret, updated the way the
// kubelet does it.
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  existsSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Pem {
  cert: string;
  key: string;
  certPath: string;
  keyPath: string;
}

let counter = 0;

export function tempDir(prefix = 'gatefleet-xds-pki-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

function pem(dir: string, name: string): Pem {
  const certPath = join(dir, `${name}.crt`);
  const keyPath = join(dir, `${name}.key`);
  return {
    cert: readFileSync(certPath, 'utf8'),
    key: readFileSync(keyPath, 'utf8'),
    certPath,
    keyPath,
  };
}

/**
 * A self-signed CA valid for `days`; `rsa` keys are PKCS#1 ("RSA PRIVATE
 * KEY"), as Helm's genCA writes them. `keyIds: false` leaves out the subject
 * and authority key identifiers.
 */
export function makeCa(
  dir: string,
  name: string,
  keyType: 'rsa' | 'ec' = 'rsa',
  days = 2,
  keyIds = true,
): Pem {
  const newkey =
    keyType === 'rsa'
      ? ['-newkey', 'rsa:2048']
      : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];
  openssl(dir, [
    'req',
    '-x509',
    ...newkey,
    '-nodes',
    '-days',
    String(days),
    '-subj',
    `/CN=${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    ...(keyIds
      ? []
      : ['-addext', 'subjectKeyIdentifier=none', '-addext', 'authorityKeyIdentifier=none']),
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.crt`,
  ]);
  if (keyType === 'rsa')
    openssl(dir, ['rsa', '-in', `${name}.key`, '-traditional', '-out', `${name}.key`]);
  return pem(dir, name);
}

function leaf(dir: string, name: string, ca: Pem, ext: string, days: number): Pem {
  openssl(dir, [
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-subj',
    `/CN=${name}`,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
  ]);
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    ca.certPath,
    '-CAkey',
    ca.keyPath,
    '-set_serial',
    `0x${Date.now().toString(16)}${(++counter).toString(16).padStart(4, '0')}`,
    '-days',
    String(days),
    '-extfile',
    `${name}.ext`,
    '-out',
    `${name}.crt`,
  ]);
  return pem(dir, name);
}

/** The xDS server's certificate: 127.0.0.1, localhost; serverAuth. */
export function makeServerCert(dir: string, name: string, ca: Pem): Pem {
  return leaf(
    dir,
    name,
    ca,
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n',
    2,
  );
}

/** A backend's serving certificate (serverAuth) naming these SANs, e.g. `DNS:a.test`, `URI:spiffe://a`. */
export function makeBackendCert(dir: string, name: string, ca: Pem, sans: string[]): Pem {
  return leaf(dir, name, ca, `subjectAltName=${sans.join(',')}\nextendedKeyUsage=serverAuth\n`, 2);
}

/** A client certificate (clientAuth) with these URI SANs (none: no SAN at all). */
export function makeClientCert(dir: string, name: string, ca: Pem, uris: string[]): Pem {
  const alt = uris.map((u, i) => `URI.${i + 1}=${u}`).join('\n');
  const ext = uris.length
    ? `extendedKeyUsage=clientAuth\nsubjectAltName=@alt\n[alt]\n${alt}\n`
    : 'extendedKeyUsage=clientAuth\n';
  return leaf(dir, name, ca, ext, 2);
}

export function serialOf(certPem: string): string {
  return new X509Certificate(certPem).serialNumber;
}

/**
 * A directory like a mounted Secret: each file name is a symlink through
 * `..data`, a symlink to a `..<timestamp>` directory. `write` updates it
 * as the kubelet's AtomicWriter does: new directory, `..data_tmp` symlink,
 * rename over `..data` (atomic), old directory removed.
 */
export class SecretVolume {
  private version = 0;

  constructor(
    readonly dir: string,
    files: Record<string, string>,
  ) {
    mkdirSync(dir, { recursive: true });
    this.write(files);
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  write(files: Record<string, string>): void {
    const data = join(this.dir, '..data');
    const old = existsSync(data) ? readlinkSync(data) : undefined;
    const ts = `..${new Date().toISOString().replace(/[-:.]/g, '_')}.${++this.version}`;
    mkdirSync(join(this.dir, ts));
    for (const [name, content] of Object.entries(files))
      writeFileSync(join(this.dir, ts, name), content);
    symlinkSync(ts, join(this.dir, '..data_tmp'));
    renameSync(join(this.dir, '..data_tmp'), data);
    for (const name of Object.keys(files)) {
      if (!existsSync(join(this.dir, name)))
        symlinkSync(join('..data', name), join(this.dir, name));
    }
    if (old) rmSync(join(this.dir, old), { recursive: true, force: true });
  }
}
