// Server credentials for the xDS server in Kubernetes mode: TLS that
// requires a client certificate signed by the CA bundle, with the CA,
// certificate and key re-read from their files when they change (a mounted
// Secret rotated by the kubelet). New connections use the new files; open
// connections and their streams are not touched; nothing restarts.
//
// Pair with XdsServerOptions.verifyNodeIdentity so that a gateway can only
// read its own node group's configuration (xds/tls/identity.ts).
import * as grpc from '@grpc/grpc-js';
import { CertificateFiles, type CertificateFilesOptions } from './cert-files.js';

export interface ServerTlsFiles {
  /** CA bundle client certificates must chain to (the Secret's `ca.crt`). */
  ca: string;
  /** The server's certificate chain and key (`tls.crt`, `tls.key`). */
  cert: string;
  key: string;
}

/**
 * Reads the files now (throws XdsTlsError GF_XDS_TLS_FILES when they cannot
 * be used, so a misconfigured controller fails at start) and polls them every
 * `refreshIntervalMs` (default 5 s) while the server listens.
 */
export function mtlsServerCredentials(
  files: ServerTlsFiles,
  opts: CertificateFilesOptions = {},
): grpc.ServerCredentials {
  const provider = new CertificateFiles(files, opts);
  // The same provider serves both roles, which also sidesteps grpc-js 1.14
  // passing createCertificateProviderServerCredentials' two providers to the
  // constructor in the opposite order from its declaration.
  return grpc.experimental.createCertificateProviderServerCredentials(provider, provider, true);
}
