// Channel credentials for a gateway's connection to the xDS server: TLS (and
// mTLS when a certificate and key are given) whose CA, certificate and key
// are re-read from their files, so a rotated Secret reaches a running
// gateway without a restart. Each new connection is made with the newest
// usable files; reloadChannelCredentials() re-reads them on the spot (the ADS
// client calls it before every reconnection) and the files are also polled.
// Files that cannot be read or do not match leave the previous ones in use.
import * as grpc from '@grpc/grpc-js';
import {
  CertificateFiles,
  type CertificateFilesOptions,
  type ReloadResult,
  type TlsFilePaths,
} from './cert-files.js';

const reloadable = new WeakMap<grpc.ChannelCredentials, CertificateFiles>();

/**
 * Reads the files now (throws XdsTlsError GF_XDS_TLS_FILES when they cannot
 * be used). Without `ca` the system's trusted CAs verify the server. Polls
 * every `refreshIntervalMs` (default 30 s) while a channel uses them.
 */
export function reloadingChannelCredentials(
  files: TlsFilePaths,
  opts: CertificateFilesOptions = {},
): grpc.ChannelCredentials {
  const provider = new CertificateFiles(files, { refreshIntervalMs: 30_000, ...opts });
  const creds = grpc.experimental.createCertificateProviderChannelCredentials(
    provider,
    provider.hasIdentity() ? provider : null,
  );
  reloadable.set(creds, provider);
  return creds;
}

/**
 * Re-reads the files behind credentials made by reloadingChannelCredentials
 * (undefined for any other credentials). A `generation` different from the
 * one a channel was opened with means the channel's connection, if still
 * open, uses outdated files.
 */
export function reloadChannelCredentials(
  creds: grpc.ChannelCredentials | undefined,
): ReloadResult | undefined {
  const provider = creds && reloadable.get(creds);
  return provider?.reload();
}
