// What the gateway refuses in a RouteConfiguration, as Envoy would (a
// NACK), and the header actions it compiles; the end-to-end tests prove the
// rest through the translator.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../gateway/config/decode.js';
import { compileRouteTable, type HeaderMutation } from '../../gateway/config/routes.js';
import { applyMutation, type HeaderBag } from '../../gateway/runtime/headers.js';

type Obj = Record<string, unknown>;

function table(route: Obj) {
  return compileRouteTable({
    name: 'rt',
    virtual_hosts: [
      {
        name: 'vh',
        domains: ['*'],
        routes: [
          {
            name: 'r',
            match: { path_specifier: 'prefix', prefix: '/' },
            action: 'direct_response',
            direct_response: { status: 200 },
            ...route,
          },
        ],
      },
    ],
  } as never);
}

const add = (key: string, value: string, extra: Obj = {}) => ({
  header: { key, value },
  ...extra,
});

describe('route configuration', () => {
  it.each([
    ['adding Host', { request_headers_to_add: [add('Host', 'x')] }],
    ['adding a pseudo-header', { request_headers_to_add: [add(':path', '/x')] }],
    ['removing Host', { request_headers_to_remove: ['host'] }],
    ['removing a pseudo-header', { response_headers_to_remove: [':status'] }],
  ])('refuses %s, as Envoy does', (_what, route) => {
    expect(() => table(route)).toThrow(ConfigError);
  });

  it('compiles append actions and leaves out empty values unless they are kept', () => {
    const rt = table({
      request_headers_to_add: [
        add('x-append', 'b'),
        add('x-overwrite', 'b', { append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' }),
        add('x-if-absent', 'b', { append_action: 'ADD_IF_ABSENT' }),
        add('x-if-present', 'b', { append_action: 'OVERWRITE_IF_EXISTS' }),
        add('x-missing', 'b', { append_action: 'OVERWRITE_IF_EXISTS' }),
        add('x-empty', ''),
        add('x-kept-empty', '', { keep_empty_value: true }),
      ],
      request_headers_to_remove: ['X-Gone'],
    });
    const m: HeaderMutation = rt.any!.routes[0]!.request;
    const h: HeaderBag = {
      'x-append': 'a',
      'x-overwrite': 'a',
      'x-if-absent': 'a',
      'x-if-present': 'a',
      'x-gone': 'a',
    };
    applyMutation(h, m, '10.0.0.1');
    expect(h).toEqual({
      'x-append': ['a', 'b'],
      'x-overwrite': 'b',
      'x-if-absent': 'a',
      'x-if-present': 'b',
      'x-kept-empty': '',
    });
  });
});
