// RouteConfigurations compiled route by route from their bytes: the same
// table as compiling the whole decoded message, routes with the same bytes
// compiled once and shared (across versions and listeners), the same
// validation errors, and only the routes still held kept.
import { describe, expect, it } from 'vitest';
import { decodeResource } from '../../gateway/config/decode.js';
import { RouteTableCompiler, splitField } from '../../gateway/config/route-table-compiler.js';
import { compileRouteTable } from '../../gateway/config/routes.js';
import { encodeResource } from '../../xds/snapshot.js';
import { TypeUrl } from '../../xds/proto/root.js';

const route = (name: string, prefix: string, cluster: string) => ({
  name,
  match: { prefix },
  route: { cluster, timeout: { seconds: 5 } },
  request_headers_to_add: [
    { header: { key: 'x-route', value: name }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' },
  ],
});

const rc = (name: string, hosts: [string, ReturnType<typeof route>[]][]) =>
  encodeResource(TypeUrl.RouteConfiguration, {
    name,
    ignore_port_in_host_matching: true,
    virtual_hosts: hosts.map(([domain, routes]) => ({
      name: `${name}/${domain}`,
      domains: [domain],
      routes,
    })),
  });

/** What a request lookup can observe of a table. */
const shape = (t: ReturnType<typeof compileRouteTable>) => ({
  name: t.name,
  exact: [...t.exact].map(([d, vh]) => [
    d,
    vh.name,
    vh.routes.map((r) => [r.name, r.prefix, r.path('/api/x'), r.action, r.request]),
  ]),
});

describe('RouteTableCompiler', () => {
  it('compiles the same table as the whole decoded message', () => {
    const bytes = rc('http', [
      ['a.example.com', [route('a1', '/api', 'c1'), route('a2', '/', 'c2')]],
      ['b.example.com', [route('b1', '/', 'c3')]],
    ]);
    const whole = compileRouteTable(decodeResource(TypeUrl.RouteConfiguration, bytes, 'http'));
    const { own, table } = new RouteTableCompiler().compile(bytes, 'http');
    expect(own).toBe('http');
    expect(shape(table)).toEqual(shape(whole));
  });

  it('compiles a route once for both listeners and across versions, and forgets dropped ones', () => {
    const c = new RouteTableCompiler();
    const hosts: [string, ReturnType<typeof route>[]][] = [
      ['a.example.com', [route('a1', '/api', 'c1'), route('a2', '/', 'c2')]],
    ];
    const http = c.compile(rc('http', hosts), 'http').table;
    const https = c.compile(rc('https', hosts), 'https').table;
    const [h] = [...http.exact.values()];
    const [s] = [...https.exact.values()];
    expect(h!.routes[0]).toBe(s!.routes[0]); // one compiled route shared
    expect(c.size).toBe(2);
    const v2 = c.compile(
      rc('http', [['a.example.com', [route('a1', '/api', 'c1'), route('a3', '/', 'c9')]]]),
      'http',
    ).table;
    expect([...v2.exact.values()][0]!.routes[0]).toBe(h!.routes[0]); // unchanged route reused
    expect(c.size).toBe(3);
    c.retain([v2]);
    expect(c.size).toBe(2);
  });

  it('refuses what the whole message would refuse, naming where', () => {
    const bad = rc('http', [['a.example.com', [{ name: 'r', route: { cluster: 'c' } } as never]]]);
    expect(() => new RouteTableCompiler().compile(bad, 'http')).toThrow(/match/);
    const dup = rc('http', [
      ['a.example.com', [route('a', '/', 'c')]],
      ['a.example.com', [route('b', '/', 'c')]],
    ]);
    expect(() => new RouteTableCompiler().compile(dup, 'http')).toThrow(
      /domain a.example.com is used by more than one virtual host/,
    );
    expect(() => new RouteTableCompiler().compile(Uint8Array.of(0x12, 0x05, 0x01), 'x')).toThrow(
      /malformed protobuf/,
    );
  });

  it('splits a repeated field out of a message and keeps the other fields in order', () => {
    const bytes = rc('t', [
      ['a.example.com', [route('a', '/', 'c')]],
      ['b.example.com', [route('b', '/', 'c')]],
    ]);
    const { rest, items } = splitField(bytes, 2, 't');
    expect(items).toHaveLength(2);
    expect(decodeResource(TypeUrl.RouteConfiguration, rest, 't')).toEqual({
      name: 't',
      ignore_port_in_host_matching: true,
    });
    expect(rest.length + items.reduce((n, i) => n + i.length + 2, 0)).toBe(bytes.length);
  });
});
