// Checks on a request before it is routed, for what the HTTP parsers let
// through. Node's HTTP/1.1 parser (strict mode) already refuses, with 400
// and before any request exists, conflicting Content-Length and
// Transfer-Encoding, duplicate Content-Length, obs-fold, bare LF and invalid
// characters in header names and values, and answers 431 past the header
// size limit. What remains:
// - a Host header missing from an HTTP/1.1 request, or more than one (Node
//   keeps the first and silently drops the rest): 400, RFC 9112 §3.2 (Node's
//   own missing-Host check is off: it answers but keeps reading requests
//   pipelined behind);
// - a Transfer-Encoding whose final coding is not chunked: Node emits the
//   request and fails only when it reads the body, so it must be refused
//   here (400, RFC 9112 §6.1), and like Envoy only `chunked` alone is
//   accepted (any other coding: 501);
// - HTTP/2 with a Host that names another authority than :authority (400);
// - more headers than allowed (431) and a Content-Length above the body
//   limit (413), refused before anything is read or forwarded.
import type { DownstreamRequest } from './forward.js';
import type { ServerLimits } from './limits.js';

export interface Refusal {
  status: number;
  message: string;
}

export type RequestLimits = Pick<ServerLimits, 'maxHeadersCount' | 'maxRequestBodyBytes'>;

const FINAL_CHUNKED = /(?:^|,)[ \t]*chunked[ \t]*$/i;

export function checkRequest(req: DownstreamRequest, limits: RequestLimits): Refusal | undefined {
  const h = req.headers;
  const raw = req.rawHeaders;
  let count = 0;
  if (req.httpVersionMajor === 1) {
    let hosts = 0;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!;
      if (name.length === 4 && name.toLowerCase() === 'host') hosts++;
    }
    if (hosts > 1) return { status: 400, message: 'more than one Host header' };
    if (hosts === 0 && req.httpVersionMinor === 1)
      return { status: 400, message: 'no Host header' };
    count = raw.length / 2;
    const te = h['transfer-encoding'];
    if (te !== undefined) {
      if (!FINAL_CHUNKED.test(te))
        return { status: 400, message: 'the final transfer coding is not chunked' };
      if (te.trim().toLowerCase() !== 'chunked')
        return { status: 501, message: 'transfer coding not implemented' };
    }
  } else {
    const authority = h[':authority'] as string | undefined;
    const host = h.host;
    if (host !== undefined && authority && host.toLowerCase() !== authority.toLowerCase())
      return { status: 400, message: 'Host does not match :authority' };
    for (let i = 0; i < raw.length; i += 2) if (raw[i]!.charCodeAt(0) !== 58 /* : */) count++;
  }
  if (count > limits.maxHeadersCount) return { status: 431, message: 'too many request headers' };
  const cl = h['content-length'];
  if (cl !== undefined && Number(cl) > limits.maxRequestBodyBytes)
    return { status: 413, message: 'request body too large' };
  return undefined;
}
