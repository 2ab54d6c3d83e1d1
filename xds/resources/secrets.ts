// IR TLS secrets → Envoy Secret, served over SDS (ADS) to the HTTPS chains
// that name them.
import type { TlsSecret } from '../../controller/ir/types.js';

export function buildSecret(s: TlsSecret): Record<string, unknown> {
  return {
    name: s.name,
    tls_certificate: {
      certificate_chain: { inline_string: s.certificateChain },
      private_key: { inline_string: s.privateKey },
    },
  };
}
