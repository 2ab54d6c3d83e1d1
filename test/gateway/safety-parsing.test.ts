// Strict request parsing end to end, with raw bytes over real sockets:
// request smuggling attempts and malformed headers are refused with 400 and
// the connection is closed, so the bytes after them are never read as a
// request and nothing reaches the backend. Over plain HTTP and HTTP/1.1 on
// an HTTPS listener.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoBackend, freePort, type EchoBackend } from '../support/backends.js';
import { startFleet, type Fleet } from '../support/gateway-fleet.js';
import { httpGet } from '../support/http.js';
import { gateway, gatewayClass, httpListener, route, service } from '../support/k8s.js';
import { rawExchange } from '../support/raw-http.js';
import {
  httpsListener,
  selfSignedCertificate,
  tlsSecret,
  type TestCertificate,
} from '../support/tls-certs.js';

const HOST = 'safe.test';
const SMUGGLED = `GET /smuggled HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`;

/** Requests that must be refused with 400, each followed by a request that must never be seen. */
const BAD_REQUESTS: Record<string, string> = {
  'Content-Length with Transfer-Encoding': `POST /a HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
  'Transfer-Encoding with Content-Length': `POST /a HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n`,
  'two different Content-Lengths': `POST /a HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 0\r\nContent-Length: 5\r\n\r\nabcde`,
  'a Content-Length list': `POST /a HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 0, 5\r\n\r\nabcde`,
  'chunked not the final coding': `POST /a HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n`,
  'an unknown coding in place of chunked': `POST /a HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n`,
  'whitespace before the colon': `POST /a HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n`,
  'obs-fold': `GET /a HTTP/1.1\r\nHost: ${HOST}\r\nX-Folded: a\r\n b\r\n\r\n`,
  'a space in a header name': `GET /a HTTP/1.1\r\nHost: ${HOST}\r\nX Bad: a\r\n\r\n`,
  'a separator in a header name': `GET /a HTTP/1.1\r\nHost: ${HOST}\r\nX(Bad): a\r\n\r\n`,
  'a control character in a header value': `GET /a HTTP/1.1\r\nHost: ${HOST}\r\nX-Bad: a\x01b\r\n\r\n`,
  'a NUL in a header value': `GET /a HTTP/1.1\r\nHost: ${HOST}\r\nX-Bad: a\x00b\r\n\r\n`,
  'a bare CR in a header value': `GET /a HTTP/1.1\r\nHost: ${HOST}\r\nX-Bad: a\rb\r\n\r\n`,
  'bare LF line endings': `GET /a HTTP/1.1\nHost: ${HOST}\n\n`,
  'a bare LF after a header': `GET /a HTTP/1.1\r\nHost: ${HOST}\nX-A: b\r\n\r\n`,
  'two Host headers': `GET /a HTTP/1.1\r\nHost: ${HOST}\r\nHost: other.test\r\n\r\n`,
  'no Host header': `GET /a HTTP/1.1\r\n\r\n`,
  'a fragment in the path': `GET /a#frag HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`,
  'an invalid chunk size': `POST /a HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabcd\r\n0\r\n\r\n`,
};

describe('safety: strict request parsing', () => {
  let backend: EchoBackend;
  let fleet: Fleet;
  let port: number;
  let tlsPort: number;
  let cert: TestCertificate;

  beforeAll(async () => {
    backend = await echoBackend('svc');
    port = await freePort();
    tlsPort = await freePort();
    cert = selfSignedCertificate([HOST]);
    fleet = await startFleet([
      gatewayClass(),
      gateway('gw', [httpListener(port), httpsListener(tlsPort, 'https', HOST, 'cert')]),
      tlsSecret('cert', cert),
      ...service('svc', [backend.port]),
      route('r', {
        parentRefs: [{ name: 'gw' }],
        rules: [{ backendRefs: [{ name: 'svc', port: 80 }] }],
      }),
    ]);
  });

  afterAll(async () => {
    await fleet?.close();
    await backend?.close();
  });

  const tls = () => ({ tls: { servername: HOST, ca: cert.cert } });

  /** Paths the backend received since `from`, once a later request has gone through. */
  async function receivedSince(from: number): Promise<string[]> {
    // The barrier is sent after the exchange: once it arrives, anything the
    // gateway had forwarded from the refused connection has arrived too.
    expect((await httpGet(port, '/barrier', HOST)).status).toBe(200);
    return backend.requests
      .slice(from)
      .map((r) => r.path)
      .filter((p) => p !== '/barrier');
  }

  it('answers pipelined valid requests one by one (the check below can see a second answer)', async () => {
    const get = (p: string) => `GET ${p} HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`;
    const r = await rawExchange(
      port,
      get('/one') +
        get('/two') +
        get('/three').replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n'),
    );
    expect(r.statuses).toEqual([200, 200, 200]);
  });

  for (const [what, bytes] of Object.entries(BAD_REQUESTS)) {
    it(`refuses ${what} with 400 and reads nothing after it`, async () => {
      const from = backend.requests.length;
      for (const opts of [{}, tls()]) {
        const r = await rawExchange('tls' in opts ? tlsPort : port, bytes + SMUGGLED, opts);
        expect(r.statuses, `${'tls' in opts ? 'https' : 'http'}: ${r.text}`).toEqual([400]);
        expect(r.closedByServer).toBe(true);
      }
      expect(await receivedSince(from)).toEqual([]);
    });
  }

  it('refuses a smuggling attempt after a valid request on the same connection', async () => {
    const from = backend.requests.length;
    const r = await rawExchange(
      port,
      `GET /first HTTP/1.1\r\nHost: ${HOST}\r\n\r\n` +
        BAD_REQUESTS['Content-Length with Transfer-Encoding']! +
        SMUGGLED,
    );
    // Node answers the parse error at once, even before the first response.
    expect(r.statuses.at(-1)).toBe(400);
    expect(r.closedByServer).toBe(true);
    expect(await receivedSince(from)).toEqual(['/first']);
  });

  it('answers 501 to a transfer coding other than chunked alone, as Envoy does', async () => {
    const from = backend.requests.length;
    const r = await rawExchange(
      port,
      `POST /a HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n` +
        SMUGGLED,
    );
    expect(r.statuses).toEqual([501]);
    expect(r.closedByServer).toBe(true);
    expect(await receivedSince(from)).toEqual([]);
  });

  it('forwards a well-formed chunked body intact', async () => {
    const r = await rawExchange(
      port,
      `POST /chunked HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n`,
    );
    expect(r.statuses).toEqual([200]);
    expect(r.text).toContain('"body":"hello world"');
  });
});
