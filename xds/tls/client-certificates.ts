// Node-group client certificates for the provisioner, issued from the xDS
// CA files the controller has mounted (the xDS TLS Secret's `ca.crt` and
// `ca.key`). The files are read on every call, so a rotated CA is picked up
// and every node group's certificate is then issued again.
import { readFile } from 'node:fs/promises';
import { XdsTlsError, XdsTlsErrorCode } from './errors.js';
import {
  issueClientCertificate,
  renewalReason,
  type ClientCertificateBundle,
  type IssueOptions,
} from './issuer.js';

export interface ClientCertificates {
  /**
   * The Secret data a node group's gateways should mount, or 'keep' when
   * `existing` (its current Secret data: PEM strings, or the Secret's base64
   * `data` entries) is still good. Rejects with XdsTlsError:
   * GF_XDS_CA_KEY_MISSING when a certificate must be issued but there is no
   * CA key, GF_XDS_TLS_FILES when the CA certificate cannot be read,
   * GF_XDS_CA_INVALID when the CA cannot issue.
   */
  issue(
    nodeGroup: string,
    existing?: Record<string, string>,
  ): Promise<ClientCertificateBundle | 'keep'>;
}

export interface CaFilePaths {
  /** The CA bundle (the mounted Secret's ca.crt). */
  caCert: string;
  /** The CA key (the mounted Secret's ca.key). */
  caKey: string;
}

export interface CaFileClientCertificatesOptions {
  validityDays?: number;
  now?: () => Date;
  /** Called with each node group issued, and why. */
  onIssued?: (nodeGroup: string, reason: string) => void;
}

export class CaFileClientCertificates implements ClientCertificates {
  constructor(
    readonly paths: CaFilePaths,
    private readonly opts: CaFileClientCertificatesOptions = {},
  ) {}

  async issue(
    nodeGroup: string,
    existing?: Record<string, string>,
  ): Promise<ClientCertificateBundle | 'keep'> {
    const now = this.opts.now?.() ?? new Date();
    const cert = await this.read(this.paths.caCert, 'CA certificate');
    const reason = renewalReason(existing, cert, now, nodeGroup);
    if (reason === undefined) return 'keep';
    let key: string;
    try {
      key = await readFile(this.paths.caKey, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT')
        throw new XdsTlsError(
          XdsTlsErrorCode.CaKeyMissing,
          `cannot issue the xDS client certificate of node group ${nodeGroup}: the CA key ${this.paths.caKey} does not exist (the xDS TLS Secret needs a ca.key entry)`,
        );
      throw new XdsTlsError(
        XdsTlsErrorCode.Files,
        `cannot read the CA key ${this.paths.caKey}: ${code ?? String(e)}`,
      );
    }
    const opts: IssueOptions = { now };
    if (this.opts.validityDays !== undefined) opts.validityDays = this.opts.validityDays;
    const bundle = await issueClientCertificate(nodeGroup, { cert, key }, opts);
    this.opts.onIssued?.(nodeGroup, reason);
    return bundle;
  }

  private async read(path: string, what: string): Promise<string> {
    try {
      return await readFile(path, 'utf8');
    } catch (e) {
      throw new XdsTlsError(
        XdsTlsErrorCode.Files,
        `cannot read the ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
      );
    }
  }
}
