// What the gateway accepts from a client, Envoy's defaults unless noted.
// The listening servers enforce the header section size (the parsers stop
// reading there); the request handler enforces the rest before routing.

export interface ServerLimits {
  /** Largest request header section accepted, in bytes (larger: 431). Envoy: 60 KiB. */
  maxHeaderBytes: number;
  /** Most request headers accepted (more: 431). Envoy's max_headers_count: 100. */
  maxHeadersCount: number;
  /**
   * Largest request body accepted, in bytes (larger: 413). A Content-Length
   * above it is refused before routing; a chunked or HTTP/2 body is counted
   * while it streams. Bodies stream and are never held whole, so this is a
   * policy, not a memory bound: the default (1 GiB) leaves large uploads
   * alone (Envoy sets no limit on streamed bodies).
   */
  maxRequestBodyBytes: number;
  /** Idle keep-alive connections are closed after this long. */
  keepAliveTimeoutMs: number;
  /** A request's headers must arrive within this long. */
  headersTimeoutMs: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  maxHeaderBytes: 60 * 1024,
  maxHeadersCount: 100,
  maxRequestBodyBytes: 1024 * 1024 * 1024,
  keepAliveTimeoutMs: 60_000,
  headersTimeoutMs: 60_000,
};
