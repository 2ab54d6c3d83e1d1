// A CA bundle, certificate and key read from files and re-read when they
// change, as a grpc-js CertificateProvider (used for server and channel
// credentials alike).
//
// Why not grpc-js's FileWatcherCertificateProvider: when a read fails it
// publishes "no certificate" (the server then drops every new connection),
// and it reads the certificate and the key independently, so a read that
// straddles a rotation can publish a mismatched pair. Here:
// - every path is opened afresh on each read, so the kubelet's update of a
//   mounted Secret (new files in a `..<timestamp>` directory, then an atomic
//   rename of the `..data` symlink the file names point through) is seen;
// - a certificate and key that do not match, or a CA bundle with no
//   certificate, are read again once at once (a read across the swap), and if
//   still wrong, or a file is unreadable, the previous material is kept and
//   the problem is reported (logged once per distinct problem);
// - listeners hear only of changes: existing connections are untouched, new
//   ones use the new material.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext, rootCertificates } from 'node:tls';
import type { experimental } from '@grpc/grpc-js';
import { XdsTlsError, XdsTlsErrorCode } from './errors.js';

type CaListener = experimental.CaCertificateUpdateListener;
type IdentityListener = experimental.IdentityCertificateUpdateListener;

export interface TlsFilePaths {
  /** CA bundle the peer is verified against; absent: the system's trusted CAs. */
  ca?: string;
  /** Certificate chain (PEM) presented to the peer; with `key`. */
  cert?: string;
  key?: string;
}

export interface TlsMaterial {
  ca: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

export interface CertificateFilesOptions {
  /** How often the files are polled while a server or channel uses them (default 5 s). */
  refreshIntervalMs?: number;
  log?: (level: 'info' | 'warn', msg: string, fields?: Record<string, unknown>) => void;
}

export interface ReloadResult {
  /** Incremented each time new material is accepted. */
  generation: number;
  changed: boolean;
  /** Why the files could not be used; the previous material stays. */
  error?: string;
}

let systemRoots: Buffer | undefined;
const SYSTEM_ROOTS = (): Buffer => (systemRoots ??= Buffer.from(rootCertificates.join('\n')));

export class CertificateFiles implements experimental.CertificateProvider {
  private material: TlsMaterial;
  private gen = 0;
  private lastError?: string;
  private timer?: NodeJS.Timeout;
  private readonly caListeners = new Set<CaListener>();
  private readonly identityListeners = new Set<IdentityListener>();
  private readonly refreshIntervalMs: number;

  /** Reads the files once; throws XdsTlsError (GF_XDS_TLS_FILES) if they cannot be used. */
  constructor(
    readonly paths: TlsFilePaths,
    private readonly opts: CertificateFilesOptions = {},
  ) {
    if ((paths.cert === undefined) !== (paths.key === undefined))
      throw new XdsTlsError(XdsTlsErrorCode.Files, 'a certificate file needs its key file');
    this.refreshIntervalMs = opts.refreshIntervalMs ?? 5_000;
    const r = this.readValid();
    if (typeof r === 'string') throw new XdsTlsError(XdsTlsErrorCode.Files, r);
    this.material = r;
  }

  get generation(): number {
    return this.gen;
  }

  hasIdentity(): boolean {
    return this.paths.cert !== undefined;
  }

  /** Reads the files now; on a change, tells every listener before returning. */
  reload(): ReloadResult {
    const r = this.readValid();
    if (typeof r === 'string') {
      if (r !== this.lastError) {
        this.lastError = r;
        this.opts.log?.('warn', 'xDS TLS files unusable; keeping the previous ones', { error: r });
      }
      return { generation: this.gen, changed: false, error: r };
    }
    this.lastError = undefined;
    const m = this.material;
    if (r === m) return { generation: this.gen, changed: false };
    const caChanged = !same(m.ca, r.ca);
    const identityChanged = !same(m.cert, r.cert) || !same(m.key, r.key);
    this.material = r;
    this.gen++;
    this.opts.log?.('info', 'xDS TLS files changed', {
      ...(caChanged ? { ca: this.paths.ca ?? 'system' } : {}),
      ...(identityChanged && r.cert
        ? { certificateSerial: new X509Certificate(r.cert).serialNumber }
        : {}),
    });
    if (identityChanged) for (const l of this.identityListeners) l(this.identityUpdate());
    if (caChanged) for (const l of this.caListeners) l({ caCertificate: r.ca });
    return { generation: this.gen, changed: true };
  }

  addCaCertificateListener(listener: CaListener): void {
    this.caListeners.add(listener);
    this.startPolling();
    // Asynchronously, as grpc-js's own providers do: a server registers its
    // watcher only after adding these listeners, and must still hear this.
    process.nextTick(() => {
      if (this.caListeners.has(listener)) listener({ caCertificate: this.material.ca });
    });
  }

  removeCaCertificateListener(listener: CaListener): void {
    this.caListeners.delete(listener);
    this.maybeStopPolling();
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.add(listener);
    this.startPolling();
    process.nextTick(() => {
      if (this.identityListeners.has(listener)) listener(this.identityUpdate());
    });
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.delete(listener);
    this.maybeStopPolling();
  }

  private identityUpdate(): experimental.IdentityCertificateUpdate | null {
    const { cert, key } = this.material;
    return cert && key ? { certificate: cert, privateKey: key } : null;
  }

  private startPolling(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.reload(), this.refreshIntervalMs);
    this.timer.unref();
  }

  private maybeStopPolling(): void {
    if (this.caListeners.size > 0 || this.identityListeners.size > 0) return;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The files' material if usable, else why not. A bad pair is read again once. */
  private readValid(): TlsMaterial | string {
    const r = this.readOnce();
    return typeof r === 'string' ? this.readOnce() : r;
  }

  private readOnce(): TlsMaterial | string {
    const { ca: caPath, cert: certPath, key: keyPath } = this.paths;
    let ca: Buffer, cert: Buffer | undefined, key: Buffer | undefined;
    try {
      ca = caPath === undefined ? SYSTEM_ROOTS() : readFileSync(caPath);
      cert = certPath === undefined ? undefined : readFileSync(certPath);
      key = keyPath === undefined ? undefined : readFileSync(keyPath);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      return `cannot read ${err.path ?? 'a TLS file'}: ${err.code ?? err.message}`;
    }
    // Unchanged files (every poll but a rotation's) need no validation again.
    const m = this.material as TlsMaterial | undefined;
    if (m && same(m.ca, ca) && same(m.cert, cert) && same(m.key, key)) return m;
    if (caPath !== undefined && !ca.toString('latin1').includes('-----BEGIN CERTIFICATE-----'))
      return `${caPath} holds no PEM certificate`;
    try {
      if (caPath !== undefined) new X509Certificate(ca);
      if (cert && key && !new X509Certificate(cert).checkPrivateKey(createPrivateKey(key)))
        return `${certPath} and ${keyPath} do not match`;
      // What the TLS stack will be given must be accepted by it.
      createSecureContext({ ca, ...(cert && key ? { cert, key } : {}) });
    } catch (e) {
      return `${[caPath, certPath, keyPath].filter(Boolean).join(', ')}: ${(e as Error).message}`;
    }
    return { ca, ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
  }
}

function same(a: Buffer | undefined, b: Buffer | undefined): boolean {
  return a && b ? a.equals(b) : a === b;
}
