// Client certificates on TLS listeners (DownstreamTlsContext
// validation_context and require_client_certificate, per filter chain).
// Node requests a client certificate per server, not per SNI context, so a
// port decides once for all its chains (clientCertMode) and, unless every
// chain needs a verified certificate (then OpenSSL refuses the handshake
// itself), each connection is checked against the chain its SNI selected
// (refuseClientCertificate). The chain's context carries its CAs, so
// `authorized` already says whether the certificate chains to them.
import type { TLSSocket } from 'node:tls';
import type { CompiledChain, CompiledListener } from '../config/listeners.js';

/**
 * none: no chain validates client certificates (none is requested);
 * all-verified: every chain requires one that verifies;
 * per-chain: some chains validate, with different requirements.
 */
export type ClientCertMode = 'none' | 'all-verified' | 'per-chain';

export function clientCertMode(l: CompiledListener): ClientCertMode {
  if (!l.tls || l.chains.every((c) => c.clientCa === undefined)) return 'none';
  if (l.chains.every((c) => c.clientCa !== undefined && c.requireClientCert && c.verifyClientCert))
    return 'all-verified';
  return 'per-chain';
}

/** True when the chain refuses the connection's client certificate (or its absence). */
export function refuseClientCertificate(chain: CompiledChain, socket: TLSSocket): boolean {
  if (chain.clientCa === undefined) return false;
  const presented = socket.getPeerX509Certificate() !== undefined;
  if (!presented) return chain.requireClientCert === true;
  return chain.verifyClientCert === true && !socket.authorized;
}
