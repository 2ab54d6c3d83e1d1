// HTTPS end to end: several HTTPS listeners on one port, each with its own
// hostname and certificate (Secrets made at test time). The certificate is
// chosen by SNI (exact, wildcard, and the hostname-less listener for other
// names and for clients without SNI), ALPN negotiates h2 or HTTP/1.1, and a
// request whose Host belongs to another listener on the port than the one
// its SNI selected answers 421 (misdirected), on both protocols.
import { connect as h2connect, type ClientHttp2Session } from 'node:http2';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoBackend, freePort, type EchoBackend } from '../support/backends.js';
import { startFleet, type Fleet } from '../support/gateway-fleet.js';
import { gateway, gatewayClass, route, service } from '../support/k8s.js';
import {
  httpsListener,
  selfSignedCertificate,
  tlsSecret,
  type TestCertificate,
} from '../support/tls-certs.js';

type Obj = Record<string, unknown>;

const LISTENERS: [name: string, hostname: string | undefined, certNames: string[]][] = [
  ['a', 'a.example.test', ['a.example.test']],
  ['b', 'b.example.test', ['b.example.test']],
  ['wild', '*.wild.test', ['*.wild.test']],
  ['default', undefined, ['default.test']],
];

function taggedRoute(section: string): Obj {
  return route(`route-${section}`, {
    parentRefs: [{ name: 'gw', sectionName: section }],
    rules: [
      {
        matches: [{ path: { value: '/redirect' } }],
        filters: [{ type: 'RequestRedirect', requestRedirect: {} }],
      },
      {
        filters: [
          {
            type: 'ResponseHeaderModifier',
            responseHeaderModifier: { set: [{ name: 'x-route', value: section }] },
          },
        ],
        backendRefs: [{ name: 'svc', port: 80 }],
      },
    ],
  });
}

interface TlsResult {
  status: number;
  headers: Record<string, unknown>;
  body: string;
  alpn: string | false;
  /** Subject CN of the certificate the gateway presented. */
  cn: string;
}

describe('routing: HTTPS, SNI and ALPN', () => {
  let backend: EchoBackend;
  let fleet: Fleet;
  let port: number;
  let certs: TestCertificate[];
  const sessions: ClientHttp2Session[] = [];

  beforeAll(async () => {
    backend = await echoBackend('svc');
    port = await freePort();
    certs = LISTENERS.map(([, , names]) => selfSignedCertificate(names));
    fleet = await startFleet([
      gatewayClass(),
      gateway(
        'gw',
        LISTENERS.map(([name, hostname]) => httpsListener(port, name, hostname, `cert-${name}`)),
      ),
      ...LISTENERS.map(([name], i) => tlsSecret(`cert-${name}`, certs[i]!)),
      ...service('svc', [backend.port]),
      ...LISTENERS.map(([name]) => taggedRoute(name)),
    ]);
  });

  afterAll(async () => {
    for (const s of sessions) s.destroy();
    await fleet?.close();
    await backend?.close();
  });

  /** Trusts every test certificate; the test checks which one was presented. */
  const tlsOptions = () => ({
    ca: certs.map((c) => c.cert),
    checkServerIdentity: () => undefined,
  });

  /** HTTP/1.1 over TLS; `servername: ''` sends no SNI. */
  function https1(servername: string, host: string, path = '/'): Promise<TlsResult> {
    const options: RequestOptions & ConnectionOptions = {
      host: '127.0.0.1',
      port,
      path,
      servername,
      headers: { host },
      ALPNProtocols: ['http/1.1'],
      agent: false,
      ...tlsOptions(),
    };
    return new Promise((resolve, reject) => {
      const req = httpsRequest(options, (res) => {
        const sock = res.socket as TLSSocket;
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            alpn: sock.alpnProtocol ?? false,
            cn: String(sock.getPeerCertificate().subject?.CN),
          }),
        );
      });
      req.on('error', reject);
      req.end();
    });
  }

  function h2session(servername: string): ClientHttp2Session {
    const s = h2connect(`https://127.0.0.1:${port}`, { servername, ...tlsOptions() });
    sessions.push(s);
    return s;
  }

  function h2get(s: ClientHttp2Session, authority: string, path = '/'): Promise<TlsResult> {
    return new Promise((resolve, reject) => {
      const st = s.request({ ':path': path, ':authority': authority });
      let body = '';
      let headers: Record<string, unknown> = {};
      st.setEncoding('utf8');
      st.on('response', (h) => (headers = h));
      st.on('data', (d: string) => (body += d));
      st.on('error', reject);
      st.on('end', () => {
        const sock = s.socket as TLSSocket;
        resolve({
          status: Number(headers[':status']),
          headers,
          body,
          alpn: s.alpnProtocol ?? false,
          cn: String(sock.getPeerCertificate().subject?.CN),
        });
      });
      st.end();
    });
  }

  it('presents the certificate the SNI selects', async () => {
    expect((await https1('a.example.test', 'a.example.test')).cn).toBe('a.example.test');
    expect((await https1('b.example.test', 'b.example.test')).cn).toBe('b.example.test');
    expect((await https1('x.wild.test', 'x.wild.test')).cn).toBe('*.wild.test');
    // Any other name, and no SNI at all, get the hostname-less listener's.
    expect((await https1('other.test', 'other.test')).cn).toBe('default.test');
    expect((await https1('', 'other.test')).cn).toBe('default.test');
  });

  it("routes by the SNI's listener over HTTP/1.1 and h2", async () => {
    const r1 = await https1('b.example.test', 'b.example.test:443');
    expect([r1.alpn, r1.status, r1.headers['x-route']]).toEqual(['http/1.1', 200, 'b']);
    const s = h2session('a.example.test');
    const r2 = await h2get(s, 'a.example.test');
    expect([r2.alpn, r2.status, r2.headers['x-route'], r2.cn]).toEqual([
      'h2',
      200,
      'a',
      'a.example.test',
    ]);
    const seen = JSON.parse(r2.body) as { headers: Record<string, string> };
    expect(seen.headers['x-forwarded-proto']).toBe('https');
    expect((await h2get(s, 'a.example.test:8443')).headers['x-route']).toBe('a');
    expect((await h2get(h2session('y.wild.test'), 'y.wild.test')).headers['x-route']).toBe('wild');
    expect((await https1('', 'anything.test')).headers['x-route']).toBe('default');
  });

  it("answers 421 for a host that belongs to another listener than the SNI's", async () => {
    const s = h2session('a.example.test');
    expect((await h2get(s, 'b.example.test')).status).toBe(421);
    expect((await h2get(s, 'z.wild.test')).status).toBe(421);
    expect((await h2get(s, 'a.example.test')).status).toBe(200); // the session still serves a
    expect((await https1('a.example.test', 'b.example.test')).status).toBe(421);
    expect((await https1('', 'a.example.test')).status).toBe(421);
    expect((await https1('x.wild.test', 'a.example.test')).status).toBe(421);
  });

  it('redirects to https on the listener port by default', async () => {
    const r = await https1('a.example.test', 'a.example.test', '/redirect?x=1');
    expect(r.status).toBe(302);
    expect(r.headers.location).toBe(`https://a.example.test:${port}/redirect?x=1`);
  });
});
