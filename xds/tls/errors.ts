// Stable codes of the xDS TLS errors (candidates for controller/errors.ts
// ErrorCode). Callers match on `code`, never on message text.

export const XdsTlsErrorCode = {
  /** A CA, certificate or key file cannot be read, or does not hold what it should. */
  Files: 'GF_XDS_TLS_FILES',
  /**
   * The CA key (the xDS TLS Secret's `ca.key`) is missing: gateway client
   * certificates cannot be issued. Gateways whose certificates are still
   * valid keep working.
   */
  CaKeyMissing: 'GF_XDS_CA_KEY_MISSING',
  /** The CA certificate or key cannot be used to issue certificates. */
  CaInvalid: 'GF_XDS_CA_INVALID',
} as const;

export type XdsTlsErrorCodeValue = (typeof XdsTlsErrorCode)[keyof typeof XdsTlsErrorCode];

export class XdsTlsError extends Error {
  constructor(
    readonly code: XdsTlsErrorCodeValue,
    message: string,
  ) {
    super(message);
    this.name = 'XdsTlsError';
  }
}
