// Path normalization end to end: the path is normalized before matching
// (dot segments resolved, also when percent-encoded; encoded unreserved
// characters decoded; backslashes are slashes; encoded slashes kept
// encoded), so `/public/../admin` and its encoded forms reach the route of
// `/admin`, never `/public`'s, and the backend receives the normalized path.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoBackend, freePort, type EchoBackend } from '../support/backends.js';
import { startFleet, type Fleet } from '../support/gateway-fleet.js';
import { httpGet } from '../support/http.js';
import { gateway, gatewayClass, httpListener, route, service } from '../support/k8s.js';
import { rawExchange } from '../support/raw-http.js';

const HOST = 'paths.test';

const rule = (prefix: string) => ({
  matches: [{ path: { type: 'PathPrefix', value: prefix } }],
  filters: [
    {
      type: 'ResponseHeaderModifier',
      responseHeaderModifier: { set: [{ name: 'x-route', value: prefix }] },
    },
  ],
  backendRefs: [{ name: 'svc', port: 80 }],
});

describe('safety: path normalization', () => {
  let backend: EchoBackend;
  let fleet: Fleet;
  let port: number;

  beforeAll(async () => {
    backend = await echoBackend('svc');
    port = await freePort();
    fleet = await startFleet([
      gatewayClass(),
      gateway('gw', [httpListener(port)]),
      ...service('svc', [backend.port]),
      route('r', {
        parentRefs: [{ name: 'gw' }],
        hostnames: [HOST],
        rules: [rule('/public'), rule('/admin')],
      }),
    ]);
  });

  afterAll(async () => {
    await fleet?.close();
    await backend?.close();
  });

  /** [route prefix that served it, path the backend received], or [status]. */
  async function served(path: string): Promise<string[]> {
    const r = await httpGet(port, path, HOST);
    if (r.status !== 200) return [String(r.status)];
    return [String(r.headers['x-route']), (JSON.parse(r.body) as { path: string }).path];
  }

  it('resolves dot segments before matching, and forwards the result', async () => {
    expect(await served('/public/../admin')).toEqual(['/admin', '/admin']);
    expect(await served('/public/a/../../admin/x')).toEqual(['/admin', '/admin/x']);
    expect(await served('/admin/../public/x')).toEqual(['/public', '/public/x']);
    expect(await served('/public/./x/.')).toEqual(['/public', '/public/x/']);
    expect(await served('/./public/x')).toEqual(['/public', '/public/x']);
    expect(await served('/../../admin')).toEqual(['/admin', '/admin']);
    expect(await served('/public/..')).toEqual(['404']); // "/" has no route
  });

  it('resolves percent-encoded dot segments, in either case', async () => {
    expect(await served('/public/%2e%2e/admin')).toEqual(['/admin', '/admin']);
    expect(await served('/public/%2E%2E/admin')).toEqual(['/admin', '/admin']);
    expect(await served('/public/.%2E/admin')).toEqual(['/admin', '/admin']);
    expect(await served('/public/%2e/x')).toEqual(['/public', '/public/x']);
  });

  it('keeps encoded slashes encoded: they never separate segments', async () => {
    expect(await served('/public/..%2Fadmin')).toEqual(['/public', '/public/..%2Fadmin']);
    expect(await served('/public/%2F..%2F..%2Fadmin')).toEqual([
      '/public',
      '/public/%2F..%2F..%2Fadmin',
    ]);
    expect(await served('/public/a%2fb')).toEqual(['/public', '/public/a%2fb']);
    expect(await served('/admin%2Fx')).toEqual(['404']); // not /admin followed by a segment
    expect(await served('/public/..%5Cadmin')).toEqual(['/public', '/public/..%5Cadmin']);
  });

  it('treats a backslash as a slash, as Envoy does', async () => {
    expect(await served('/public\\..\\admin')).toEqual(['/admin', '/admin']);
  });

  it('decodes unreserved characters and escapes what a path may not carry raw', async () => {
    expect(await served('/%61dmin/%7Ex')).toEqual(['/admin', '/admin/~x']);
    expect(await served('/public/a{b}')).toEqual(['/public', '/public/a%7Bb%7D']);
  });

  it('keeps the query as it is', async () => {
    expect(await served('/public/../admin?x=%2e%2e/../y')).toEqual([
      '/admin',
      '/admin?x=%2e%2e/../y',
    ]);
  });

  it('refuses paths that cannot be normalized', async () => {
    expect(await served('/public/%zz')).toEqual(['400']);
    expect(await served('/public/%00')).toEqual(['400']);
    expect(await served('/public/%2')).toEqual(['400']);
    const absolute = await rawExchange(
      port,
      `GET http://${HOST}/admin HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`,
    );
    expect(absolute.statuses).toEqual([400]);
  });
});
