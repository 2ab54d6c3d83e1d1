// Retries with Envoy's retry_on semantics, and what an upstream failure
// becomes for the client: 503 when nothing could be connected to (the
// request was never written), 502 when the upstream reset the exchange or
// answered something that is not HTTP, 504 when it was too slow.
import type { RetryPolicy } from '../config/routes.js';

export const FAIL_CONNECT = 1;
export const FAIL_RESET = 2;
export const FAIL_PROTOCOL = 4;
export const FAIL_REFUSED_STREAM = 8;
export const FAIL_TIMEOUT = 16;

export interface Failure {
  kind: number;
  status: number;
  detail: string;
}

export const CONNECT_FAILURE: Failure = {
  kind: FAIL_CONNECT,
  status: 503,
  detail: 'upstream connect error',
};
const RESET: Failure = { kind: FAIL_RESET, status: 502, detail: 'upstream reset' };
const PROTOCOL: Failure = { kind: FAIL_PROTOCOL, status: 502, detail: 'upstream protocol error' };
const REFUSED_STREAM: Failure = {
  kind: FAIL_REFUSED_STREAM,
  status: 503,
  detail: 'upstream refused stream',
};
/** undici would not send the request as it stands (a header it refuses, say): not retried. */
const UNSENDABLE: Failure = { kind: 0, status: 502, detail: 'invalid upstream request' };
export const TIMEOUT: Failure = {
  kind: FAIL_TIMEOUT,
  status: 504,
  detail: 'upstream request timeout',
};

/**
 * `written`: undici had handed the request to a connection (onConnect) when
 * it failed; before that, every failure is a failure to connect.
 */
export function classify(err: unknown, written: boolean): Failure {
  const e = err as { code?: string; name?: string; message?: string };
  if (e.code === 'UND_ERR_INVALID_ARG' || e.code === 'UND_ERR_NOT_SUPPORTED') return UNSENDABLE;
  if (!written) return CONNECT_FAILURE;
  if (e.name === 'HTTPParserError' || e.code?.startsWith('HPE_')) return PROTOCOL;
  if (e.message?.includes('REFUSED_STREAM')) return REFUSED_STREAM;
  return RESET;
}

export interface CompiledRetry {
  numRetries: number;
  /** Failure kinds (FAIL_* bits) retried. */
  failures: number;
  any5xx: boolean;
  gatewayError: boolean;
  conflict: boolean;
  codes: ReadonlySet<number> | undefined;
  /** 0: no per-try timeout. */
  perTryTimeoutMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
}

const compiled = new WeakMap<RetryPolicy, CompiledRetry>();

/** The policy prepared once per route (cached with the configuration object). */
export function compileRetry(p: RetryPolicy): CompiledRetry {
  let c = compiled.get(p);
  if (c !== undefined) return c;
  const on = p.on;
  const any5xx = on.has('5xx');
  const gatewayError = on.has('gateway-error');
  let failures = 0;
  if (any5xx || gatewayError)
    failures |= FAIL_CONNECT | FAIL_RESET | FAIL_PROTOCOL | FAIL_REFUSED_STREAM | FAIL_TIMEOUT;
  // `reset`: the upstream did not answer at all — disconnect, reset or a try
  // that reached its per-try timeout (Envoy's definition).
  if (on.has('reset'))
    failures |= FAIL_CONNECT | FAIL_RESET | FAIL_PROTOCOL | FAIL_REFUSED_STREAM | FAIL_TIMEOUT;
  if (on.has('connect-failure')) failures |= FAIL_CONNECT;
  if (on.has('refused-stream')) failures |= FAIL_REFUSED_STREAM;
  const base = p.backoffBaseMs > 0 ? p.backoffBaseMs : 25;
  c = {
    numRetries: p.numRetries,
    failures,
    any5xx,
    gatewayError,
    conflict: on.has('retriable-4xx'),
    codes: on.has('retriable-status-codes') && p.statusCodes.size > 0 ? p.statusCodes : undefined,
    perTryTimeoutMs: p.perTryTimeoutMs ?? 0,
    backoffBaseMs: base,
    backoffMaxMs: base * 10,
  };
  compiled.set(p, c);
  return c;
}

export function retriableStatus(r: CompiledRetry, status: number): boolean {
  if (r.codes !== undefined && r.codes.has(status)) return true;
  if (status >= 500) {
    if (r.any5xx) return true;
    if (r.gatewayError) return status === 502 || status === 503 || status === 504;
    return false;
  }
  return r.conflict && status === 409;
}

/** Envoy's fully jittered exponential back-off: random in [0, min((2^n − 1) × base, 10 × base)). */
export function backoffMs(r: CompiledRetry, retry: number): number {
  return Math.random() * Math.min((2 ** retry - 1) * r.backoffBaseMs, r.backoffMaxMs);
}
