// Route matching end to end (HTTPRoute → translator → xDS → gateway): path
// Exact, element-wise PathPrefix and RE2 RegularExpression matches, header,
// query parameter and method matches, and precedence across routes. Every
// rule tags its responses with `x-route`, so each request shows which rule
// served it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoBackend, freePort, type EchoBackend } from '../support/backends.js';
import { startFleet, type Fleet } from '../support/gateway-fleet.js';
import { httpGet } from '../support/http.js';
import { gateway, gatewayClass, httpListener, route, service } from '../support/k8s.js';

type Obj = Record<string, unknown>;

/** A rule that sends to `svc` and tags its responses with `x-route: <tag>`. */
function rule(tag: string, matches: Obj[]): Obj {
  return {
    matches,
    filters: [
      {
        type: 'ResponseHeaderModifier',
        responseHeaderModifier: { set: [{ name: 'x-route', value: tag }] },
      },
    ],
    backendRefs: [{ name: 'svc', port: 80 }],
  };
}

/** An HTTPRoute on `gw` for `hostnames`, created at `created`. */
function tagged(name: string, hostnames: string[], rules: Obj[], created: string): Obj {
  const r = route(name, { parentRefs: [{ name: 'gw' }], hostnames, rules });
  (r.metadata as Obj).creationTimestamp = created;
  return r;
}

const MATCH = 'match.example.com';
const PREC = 'prec.example.com';

describe('routing: matches and precedence', () => {
  let backend: EchoBackend;
  let fleet: Fleet;
  let port: number;

  beforeAll(async () => {
    backend = await echoBackend('svc');
    port = await freePort();
    const old = '2025-01-01T00:00:00Z';
    const mid = '2025-06-01T00:00:00Z';
    const young = '2026-01-01T00:00:00Z';
    fleet = await startFleet([
      gatewayClass(),
      gateway('gw', [httpListener(port)]),
      ...service('svc', [backend.port]),
      tagged(
        'matches',
        [MATCH],
        [
          rule('exact', [{ path: { type: 'Exact', value: '/exact' } }]),
          rule('abc', [{ path: { type: 'PathPrefix', value: '/abc' } }]),
          rule('trail', [{ path: { type: 'PathPrefix', value: '/trail/' } }]),
          rule('regex', [{ path: { type: 'RegularExpression', value: '(?i)/re/[a-z]+' } }]),
          rule('hdr-exact', [
            { path: { value: '/hdr' }, headers: [{ name: 'X-Version', value: 'v2' }] },
          ]),
          rule('hdr-regex', [
            {
              path: { value: '/hdr' },
              headers: [{ type: 'RegularExpression', name: 'x-env', value: 'prod-[0-9]+' }],
            },
          ]),
          rule('query', [{ path: { value: '/q' }, queryParams: [{ name: 'page', value: '2' }] }]),
          rule('post', [{ path: { value: '/m' }, method: 'POST' }]),
        ],
        young,
      ),
      // Precedence: the oldest route holds the least specific match each time,
      // so age alone would pick the wrong rule.
      tagged(
        'p1-prefix',
        [PREC],
        [
          rule('prefix-short', [{ path: { value: '/p' } }]),
          rule('prefix-long', [{ path: { value: '/p/long' } }]),
        ],
        old,
      ),
      tagged(
        'p2-regex',
        [PREC],
        [rule('regex', [{ path: { type: 'RegularExpression', value: '/p/(exact|long/x)' } }])],
        mid,
      ),
      tagged(
        'p3-exact',
        [PREC],
        [rule('exact', [{ path: { type: 'Exact', value: '/p/exact' } }])],
        young,
      ),
      tagged(
        'p4-headers',
        [PREC],
        [
          rule('two-headers', [
            {
              path: { value: '/mh' },
              headers: [
                { name: 'x-a', value: '1' },
                { name: 'x-b', value: '1' },
              ],
            },
          ]),
          rule('one-header', [{ path: { value: '/hc' }, headers: [{ name: 'x-a', value: '1' }] }]),
          rule('two-queries', [
            {
              path: { value: '/hq' },
              queryParams: [
                { name: 'a', value: '1' },
                { name: 'b', value: '1' },
              ],
            },
          ]),
          rule('one-query', [{ path: { value: '/qc' }, queryParams: [{ name: 'a', value: '1' }] }]),
        ],
        old,
      ),
      tagged(
        'p5-more',
        [PREC],
        [
          rule('method', [{ path: { value: '/mh' }, method: 'GET' }]),
          rule('two-headers', [
            {
              path: { value: '/hc' },
              headers: [
                { name: 'x-a', value: '1' },
                { name: 'x-b', value: '1' },
              ],
            },
          ]),
          rule('one-header', [{ path: { value: '/hq' }, headers: [{ name: 'x-a', value: '1' }] }]),
          rule('two-queries', [
            {
              path: { value: '/qc' },
              queryParams: [
                { name: 'a', value: '1' },
                { name: 'b', value: '1' },
              ],
            },
          ]),
        ],
        young,
      ),
      // Identical matches: the oldest route wins, whatever the names say.
      tagged('zz-old', [PREC], [rule('old', [{ path: { value: '/age' } }])], old),
      tagged('aa-young', [PREC], [rule('young', [{ path: { value: '/age' } }])], young),
      // The route's own hostname comes first: an exact hostname beats a
      // wildcard even with a less specific path.
      tagged(
        'ph-wild',
        ['*.example.com'],
        [rule('wild-host', [{ path: { type: 'Exact', value: '/hp/x' } }])],
        old,
      ),
      tagged('ph-exact', [PREC], [rule('exact-host', [{ path: { value: '/hp' } }])], young),
    ]);
  });

  afterAll(async () => {
    await fleet?.close();
    await backend?.close();
  });

  /** The tag of the rule that served the request, or the status when none did. */
  async function served(
    path: string,
    host: string,
    opts: { method?: string; headers?: Record<string, string> } = {},
  ): Promise<string> {
    const r = await httpGet(port, path, host, opts);
    if (r.status !== 200) return String(r.status);
    return String(r.headers['x-route']);
  }

  it('matches Exact paths exactly, case-sensitive, ignoring the query', async () => {
    expect(await served('/exact', MATCH)).toBe('exact');
    expect(await served('/exact?x=1', MATCH)).toBe('exact');
    expect(await served('/exact/', MATCH)).toBe('404');
    expect(await served('/EXACT', MATCH)).toBe('404');
    expect(await served('/exactly', MATCH)).toBe('404');
  });

  it('matches PathPrefix element by element', async () => {
    expect(await served('/abc', MATCH)).toBe('abc');
    expect(await served('/abc/', MATCH)).toBe('abc');
    expect(await served('/abc/d/e?f=g', MATCH)).toBe('abc');
    expect(await served('/abcd', MATCH)).toBe('404');
    expect(await served('/ab', MATCH)).toBe('404');
    // A trailing "/" on the prefix is ignored: /trail/ matches /trail too.
    expect(await served('/trail', MATCH)).toBe('trail');
    expect(await served('/trail/x', MATCH)).toBe('trail');
    expect(await served('/trailx', MATCH)).toBe('404');
  });

  it('matches RegularExpression paths with RE2 against the whole path', async () => {
    expect(await served('/re/abc', MATCH)).toBe('regex');
    expect(await served('/RE/ABC', MATCH)).toBe('regex'); // (?i)
    expect(await served('/re/abc?q=1', MATCH)).toBe('regex');
    expect(await served('/re/abc1', MATCH)).toBe('404');
    expect(await served('/x/re/abc', MATCH)).toBe('404');
  });

  it('matches header names case-insensitively, values exactly or by regex', async () => {
    expect(await served('/hdr', MATCH, { headers: { 'X-VERSION': 'v2' } })).toBe('hdr-exact');
    expect(await served('/hdr', MATCH, { headers: { 'x-version': 'V2' } })).toBe('404');
    expect(await served('/hdr', MATCH, { headers: { 'X-Env': 'prod-42' } })).toBe('hdr-regex');
    expect(await served('/hdr', MATCH, { headers: { 'x-env': 'prod-42x' } })).toBe('404');
    expect(await served('/hdr', MATCH)).toBe('404');
  });

  it('matches query parameters by exact name and value', async () => {
    expect(await served('/q?page=2', MATCH)).toBe('query');
    expect(await served('/q?a=1&page=2', MATCH)).toBe('query');
    expect(await served('/q?page=3', MATCH)).toBe('404');
    expect(await served('/q?Page=2', MATCH)).toBe('404');
    expect(await served('/q', MATCH)).toBe('404');
  });

  it('matches the method', async () => {
    expect(await served('/m', MATCH, { method: 'POST' })).toBe('post');
    expect(await served('/m', MATCH)).toBe('404');
  });

  it('answers 404 when no virtual host or no route matches', async () => {
    expect(await served('/exact', 'nothing.test')).toBe('404');
    expect(await served('/nothing', MATCH)).toBe('404');
  });

  it('ranks Exact above RegularExpression above the longest PathPrefix, across routes', async () => {
    expect(await served('/p/exact', PREC)).toBe('exact');
    expect(await served('/p/long/x', PREC)).toBe('regex');
    expect(await served('/p/long/y', PREC)).toBe('prefix-long');
    expect(await served('/p/other', PREC)).toBe('prefix-short');
  });

  it('ranks a method match above header matches, header count above query count', async () => {
    const both = { 'x-a': '1', 'x-b': '1' };
    expect(await served('/mh', PREC, { headers: both })).toBe('method');
    expect(await served('/mh', PREC, { method: 'POST', headers: both })).toBe('two-headers');
    expect(await served('/hc', PREC, { headers: both })).toBe('two-headers');
    expect(await served('/hc', PREC, { headers: { 'x-a': '1' } })).toBe('one-header');
    expect(await served('/hq?a=1&b=1', PREC, { headers: { 'x-a': '1' } })).toBe('one-header');
    expect(await served('/hq?a=1&b=1', PREC)).toBe('two-queries');
    expect(await served('/qc?a=1&b=1', PREC)).toBe('two-queries');
    expect(await served('/qc?a=1', PREC)).toBe('one-query');
  });

  it('breaks ties by the oldest route', async () => {
    expect(await served('/age', PREC)).toBe('old');
  });

  it("ranks the route's own exact hostname above a wildcard hostname", async () => {
    expect(await served('/hp/x', PREC)).toBe('exact-host');
    expect(await served('/hp/x', 'other.example.com')).toBe('wild-host');
  });
});
