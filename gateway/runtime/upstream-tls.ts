// TLS dispatchers for clusters with upstream TLS (BackendTLSPolicy). The
// certificate must chain to the cluster's CAs (and/or the system roots) and
// carry one of its subject alt names: DNS names compared case-insensitively,
// a wildcard in the certificate covering exactly one leftmost label; URIs
// exactly. The common name is never used. SNI is always the cluster's, never
// the request's Host (undici would otherwise derive it from Host, and reconnect
// whenever Host changes). A cluster's client certificate (an SDS Secret) is
// presented when the backend asks for one.
import { createHash } from 'node:crypto';
import { rootCertificates, type PeerCertificate } from 'node:tls';
import { buildConnector, Pool, type Dispatcher } from 'undici';
import type { CompiledSecret } from '../config/secrets.js';
import type { UpstreamTlsSpec } from '../config/upstream-tls.js';

/** A client certificate's identity: a digest, so no key material ends up in a key string. */
const clientIds = new WeakMap<CompiledSecret, string>();

function clientId(s: CompiledSecret): string {
  let id = clientIds.get(s);
  if (id === undefined) {
    id = createHash('sha256').update(s.pem.cert).update('\0').update(s.pem.key).digest('hex');
    clientIds.set(s, id);
  }
  return id;
}

/** The settings that make two TLS dispatchers different, as a key. */
export function tlsKey(t: UpstreamTlsSpec, client?: CompiledSecret): string {
  return JSON.stringify([
    t.sni,
    t.ca ?? '',
    t.systemRoots,
    t.subjectAltNames,
    t.alpn,
    client ? clientId(client) : '',
  ]);
}

export function tlsDispatcher(
  origin: string,
  t: UpstreamTlsSpec,
  client: CompiledSecret | undefined,
  h2: boolean,
  connectTimeoutMs: number,
  options: Pool.Options,
): Dispatcher {
  const ca =
    t.ca === undefined ? [...rootCertificates] : t.systemRoots ? [...rootCertificates, t.ca] : t.ca;
  const servername = t.sni === '' ? undefined : t.sni;
  const base = buildConnector({
    timeout: connectTimeoutMs,
    ca,
    rejectUnauthorized: true,
    ...(client ? { cert: client.pem.cert, key: client.pem.key } : {}),
    checkServerIdentity: (_host: string, cert: PeerCertificate) => namesProblem(t, cert),
    ...(t.alpn.length > 0 ? { ALPNProtocols: t.alpn } : {}),
  });
  const connect: buildConnector.connector = (opts, cb) => base({ ...opts, servername }, cb);
  const pool = new Pool(origin, {
    ...options,
    connect,
    pipelining: h2 ? 100 : 1,
    allowH2: h2,
  });
  // undici's Request reads `servername` from the dispatch options (untyped).
  return pool.compose(
    (dispatch) => (opts, handler) =>
      dispatch({ ...opts, servername } as Dispatcher.DispatchOptions, handler),
  );
}

/** Why the certificate is not one the cluster accepts, or undefined when it is. */
export function namesProblem(t: UpstreamTlsSpec, cert: PeerCertificate): Error | undefined {
  const names = subjectAltNames(cert.subjectaltname ?? '');
  for (const want of t.subjectAltNames) {
    if (want.type === 'URI' && names.some((n) => n.type === 'URI' && n.value === want.value))
      return undefined;
    if (
      want.type === 'DNS' &&
      names.some((n) => n.type === 'DNS' && dnsMatches(n.value, want.value))
    )
      return undefined;
  }
  const wanted = t.subjectAltNames.map((s) => `${s.type}:${s.value}`).join(', ');
  const err = new Error(
    `backend certificate names none of ${wanted} (it names ${cert.subjectaltname || 'nothing'})`,
  );
  (err as NodeJS.ErrnoException).code = 'ERR_TLS_CERT_ALTNAME_INVALID';
  return err;
}

/** Node's `subjectaltname`: `DNS:a, URI:b, …`; values with special characters are JSON-quoted. */
function subjectAltNames(s: string): { type: string; value: string }[] {
  const out: { type: string; value: string }[] = [];
  const re =
    /(DNS|URI|IP Address|email|DirName|othername|Registered ID):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/g;
  for (const m of s.matchAll(re)) {
    let value = m[2]!;
    if (value.startsWith('"')) {
      try {
        value = JSON.parse(value) as string;
      } catch {
        continue;
      }
    }
    out.push({ type: m[1]!, value });
  }
  return out;
}

function dnsMatches(certName: string, want: string): boolean {
  const c = certName.toLowerCase().replace(/\.$/, '');
  const w = want.toLowerCase().replace(/\.$/, '');
  if (c === w) return true;
  if (!c.startsWith('*.')) return false;
  const dot = w.indexOf('.');
  return dot > 0 && w.slice(dot) === c.slice(1);
}
