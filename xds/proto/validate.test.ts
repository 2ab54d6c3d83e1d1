// validateMessage on real Envoy resources (the PGV rules Envoy's protos carry), plus a small
// proto of our own for the rule kinds Envoy's resources do not use.
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { lookupType, TYPE_PREFIX } from './root.js';
import { validateMessage } from './validate.js';

const HCM = 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const HTTP_OPTIONS = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

type Obj = Record<string, unknown>;

/** Validates both the plain object and the decoded message; they must agree. */
function check(typeName: string, obj: object): string[] {
  const type = lookupType(typeName);
  const fromObject = validateMessage(type, obj);
  const decoded = type.decode(type.encode(type.fromObject(obj)).finish());
  expect(validateMessage(type, decoded)).toEqual(fromObject);
  return fromObject;
}

function variant<T extends object>(base: () => T, change: (o: T) => void): T {
  const o = base();
  change(o);
  return o;
}

const routeConfig = (): Obj => ({
  name: 'default/gw/http',
  virtual_hosts: [
    {
      name: 'example.com',
      domains: ['example.com', 'example.com:*'],
      routes: [
        {
          match: { prefix: '/' },
          route: { cluster: 'default/backend/8080', timeout: { seconds: 1, nanos: 500000000 } },
          typed_per_filter_config: {
            'envoy.filters.http.cors': {
              '@type': TYPE_PREFIX + 'envoy.extensions.filters.http.cors.v3.CorsPolicy',
              allow_origin_string_match: [{ exact: 'https://a.example' }],
            },
          },
        },
      ],
      request_headers_to_remove: ['x-internal'],
    },
  ],
});

/* eslint-disable @typescript-eslint/no-explicit-any -- fixtures are mutated freely */
type Any = any;

const listener = (): Any => ({
  name: 'default/gw/http',
  address: { socket_address: { address: '0.0.0.0', port_value: 8080 } },
  filter_chains: [
    {
      filters: [
        {
          name: 'envoy.filters.network.http_connection_manager',
          typed_config: {
            '@type': TYPE_PREFIX + HCM,
            stat_prefix: 'http',
            rds: {
              route_config_name: 'default/gw/http',
              config_source: { ads: {}, resource_api_version: 'V3' },
            },
            http_filters: [
              {
                name: 'envoy.filters.http.router',
                typed_config: {
                  '@type': TYPE_PREFIX + 'envoy.extensions.filters.http.router.v3.Router',
                },
              },
            ],
            max_request_headers_kb: { value: 96 },
          },
        },
      ],
    },
  ],
  per_connection_buffer_limit_bytes: { value: 32768 },
});

const cluster = (): Any => ({
  name: 'default/backend/8080',
  type: 'EDS',
  eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' } },
  connect_timeout: { seconds: 5 },
  lb_policy: 'RING_HASH',
  ring_hash_lb_config: { maximum_ring_size: { value: 8388608 } },
  per_connection_buffer_limit_bytes: { value: 1048576 },
  load_assignment: {
    cluster_name: 'default/backend/8080',
    endpoints: [
      {
        lb_endpoints: [
          {
            endpoint: { address: { socket_address: { address: '10.0.0.7', port_value: 8080 } } },
            load_balancing_weight: { value: 1 },
          },
        ],
      },
    ],
  },
  typed_extension_protocol_options: {
    [HTTP_OPTIONS]: {
      '@type': TYPE_PREFIX + HTTP_OPTIONS,
      explicit_http_config: { http2_protocol_options: {} },
    },
  },
  metadata: { filter_metadata: { 'gatefleet.io': { fields: { a: { stringValue: 'b' } } } } },
});
/* eslint-enable @typescript-eslint/no-explicit-any */

const RC = 'envoy.config.route.v3.RouteConfiguration';
const LISTENER = 'envoy.config.listener.v3.Listener';
const CLUSTER = 'envoy.config.cluster.v3.Cluster';
const HCM_PATH = 'filter_chains[0].filters[0].typed_config';

describe('validateMessage on valid resources', () => {
  it.each([
    [RC, routeConfig()],
    [LISTENER, listener()],
    [CLUSTER, cluster()],
  ])('%s gives []', (typeName, obj) => {
    expect(check(typeName, obj)).toEqual([]);
  });

  it('accepts an empty prefix (a set oneof member; RouteMatch.prefix has no min_len)', () => {
    const rc = variant(routeConfig, (o: Any) => (o.virtual_hosts[0].routes[0].match.prefix = ''));
    expect(check(RC, rc)).toEqual([]);
  });
});

describe('RouteConfiguration rules', () => {
  const route = 'virtual_hosts[0].routes[0]';

  it('repeated min_items: a VirtualHost without domains', () => {
    const rc = variant(routeConfig, (o: Any) => (o.virtual_hosts[0].domains = []));
    expect(check(RC, rc)).toEqual(['virtual_hosts[0].domains: must have at least 1 item']);
  });

  it('oneof (validate.required): a RouteAction without any cluster_specifier', () => {
    const rc = variant(routeConfig, (o: Any) => delete o.virtual_hosts[0].routes[0].route.cluster);
    expect(check(RC, rc)).toEqual([
      `${route}.route.cluster_specifier: one of cluster, cluster_header, weighted_clusters, ` +
        'cluster_specifier_plugin, inline_cluster_specifier_plugin must be set',
    ]);
  });

  it('oneof (validate.required): a Route without an action', () => {
    const rc = variant(routeConfig, (o: Any) => delete o.virtual_hosts[0].routes[0].route);
    expect(check(RC, rc)).toEqual([
      `${route}.action: one of route, redirect, direct_response, filter_action, ` +
        'non_forwarding_action must be set',
    ]);
  });

  it('string min_len on a set oneof member: an empty cluster name', () => {
    const rc = variant(routeConfig, (o: Any) => (o.virtual_hosts[0].routes[0].route.cluster = ''));
    expect(check(RC, rc)).toEqual([`${route}.route.cluster: must be at least 1 character long`]);
  });

  it('string min_len on a plain field: an unnamed VirtualHost', () => {
    const rc = variant(routeConfig, (o: Any) => delete o.virtual_hosts[0].name);
    expect(check(RC, rc)).toEqual(['virtual_hosts[0].name: must be at least 1 character long']);
  });

  it('message.required: a Route without match', () => {
    const rc = variant(routeConfig, (o: Any) => delete o.virtual_hosts[0].routes[0].match);
    expect(check(RC, rc)).toEqual([`${route}.match: is required`]);
  });

  it('repeated items with well_known_regex strict: false (only NUL, CR, LF rejected)', () => {
    const rc = variant(routeConfig, (o: Any) => {
      o.virtual_hosts[0].domains = ['ok\tstill ok', 'bad\r\nx-injected: 1'];
      o.virtual_hosts[0].request_headers_to_remove = ['x-a', ''];
    });
    expect(check(RC, rc)).toEqual([
      'virtual_hosts[0].domains[1]: must be a valid HTTP header value (no NUL, CR or LF)',
      'virtual_hosts[0].request_headers_to_remove[1]: must be at least 1 character long',
    ]);
  });

  it('recurses into Any payloads in maps (typed_per_filter_config)', () => {
    const rc = variant(routeConfig, (o: Any) => {
      o.virtual_hosts[0].routes[0].typed_per_filter_config['envoy.filters.http.cors'] = {
        '@type': TYPE_PREFIX + 'envoy.extensions.filters.http.cors.v3.CorsPolicy',
        allow_origin_string_match: [{ ignore_case: true }],
      };
    });
    expect(check(RC, rc)).toEqual([
      `${route}.typed_per_filter_config["envoy.filters.http.cors"].allow_origin_string_match[0]` +
        '.match_pattern: one of exact, prefix, suffix, safe_regex, contains, custom must be set',
    ]);
  });

  it('repeated max_items and unique', () => {
    const rc = variant(routeConfig, (o: Any) => {
      o.virtual_hosts[0].routes[0].route.internal_redirect_policy = {
        redirect_response_codes: [301, 302, 303, 307, 308, 309],
        response_headers_to_copy: ['x-a', 'x-b', 'x-a'],
      };
    });
    expect(check(RC, rc)).toEqual([
      `${route}.route.internal_redirect_policy.redirect_response_codes: must have at most 5 items`,
      `${route}.route.internal_redirect_policy.response_headers_to_copy[2]: must be unique, repeats "x-a"`,
    ]);
  });

  it('duration required and gt in nested messages', () => {
    const rc = variant(routeConfig, (o: Any) => {
      o.virtual_hosts[0].routes[0].route.retry_policy = {
        retry_back_off: { max_interval: { seconds: 0 } },
      };
    });
    expect(check(RC, rc)).toEqual([
      `${route}.route.retry_policy.retry_back_off.base_interval: is required`,
      `${route}.route.retry_policy.retry_back_off.max_interval: must be greater than 0s, got 0s`,
    ]);
  });
});

describe('Listener rules (through the HttpConnectionManager Any)', () => {
  it('string min_len in the Any payload', () => {
    const l = variant(
      listener,
      (o) => (o.filter_chains[0].filters[0].typed_config.stat_prefix = ''),
    );
    expect(check(LISTENER, l)).toEqual([
      `${HCM_PATH}.stat_prefix: must be at least 1 character long`,
    ]);
  });

  it('oneof required and message.required in the Any payload', () => {
    const noRoutes = variant(
      listener,
      (o) => delete o.filter_chains[0].filters[0].typed_config.rds,
    );
    expect(check(LISTENER, noRoutes)).toEqual([
      `${HCM_PATH}.route_specifier: one of rds, route_config, scoped_routes must be set`,
    ]);
    const noSource = variant(
      listener,
      (o) => delete o.filter_chains[0].filters[0].typed_config.rds.config_source,
    );
    expect(check(LISTENER, noSource)).toEqual([`${HCM_PATH}.rds.config_source: is required`]);
  });

  it('uint32 gt/lte on a UInt32Value wrapper', () => {
    const kb = (value: number): string[] =>
      check(
        LISTENER,
        variant(listener, (o) => {
          o.filter_chains[0].filters[0].typed_config.max_request_headers_kb = { value };
        }),
      );
    const msg = 'must be greater than 0 and less than or equal to 8192';
    expect(kb(0)).toEqual([`${HCM_PATH}.max_request_headers_kb: ${msg}, got 0`]);
    expect(kb(8193)).toEqual([`${HCM_PATH}.max_request_headers_kb: ${msg}, got 8193`]);
    expect(kb(8192)).toEqual([]);
  });

  it('uint32 lte: a port that is too large, or negative (protobufjs wraps it to 2^32-1)', () => {
    const port = (p: number): string[] =>
      check(
        LISTENER,
        variant(listener, (o) => (o.address.socket_address.port_value = p)),
      );
    const path = 'address.socket_address.port_value';
    expect(port(65536)).toEqual([`${path}: must be less than or equal to 65535, got 65536`]);
    expect(port(-1)).toEqual([`${path}: must be less than or equal to 65535, got 4294967295`]);
  });

  it('enum defined_only, string in, duration gte', () => {
    const l = variant(listener, (o) => {
      const hcm = o.filter_chains[0].filters[0].typed_config;
      hcm.codec_type = 7;
      hcm.scheme_header_transformation = { scheme_to_overwrite: 'ftp' };
      hcm.access_log_flush_interval = { nanos: 999999 };
    });
    expect(check(LISTENER, l)).toEqual([
      `${HCM_PATH}.codec_type: must be a defined envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.CodecType value, got 7`,
      `${HCM_PATH}.scheme_header_transformation.scheme_to_overwrite: must be one of ["http", "https"]`,
      `${HCM_PATH}.access_log_flush_interval: must be greater than or equal to 0.001s, got 0.000999999s`,
    ]);
  });
});

describe('Cluster rules', () => {
  it('enum defined_only: an invalid DiscoveryType (a oneof member) and LbPolicy', () => {
    const c = variant(cluster, (o) => {
      o.type = 99;
      o.lb_policy = 42;
    });
    expect(check(CLUSTER, c)).toEqual([
      'type: must be a defined envoy.config.cluster.v3.Cluster.DiscoveryType value, got 99',
      'lb_policy: must be a defined envoy.config.cluster.v3.Cluster.LbPolicy value, got 42',
    ]);
  });

  it('duration gt: connect_timeout must be positive, dns_refresh_rate above 1ms', () => {
    const c = variant(cluster, (o) => {
      o.connect_timeout = { seconds: -1 };
      o.dns_refresh_rate = { nanos: 1000 };
      o.dns_failure_refresh_rate = {};
    });
    expect(check(CLUSTER, c)).toEqual([
      'connect_timeout: must be greater than 0s, got -1s',
      'dns_refresh_rate: must be greater than 0.001s, got 0.000001s',
      'dns_failure_refresh_rate.base_interval: is required',
    ]);
  });

  it('uint64 lte on a UInt64Value, uint32 gte on a UInt32Value', () => {
    const c = variant(cluster, (o) => {
      o.ring_hash_lb_config.maximum_ring_size = { value: '18446744073709551615' };
      o.load_assignment.endpoints[0].lb_endpoints[0].load_balancing_weight = { value: 0 };
    });
    expect(check(CLUSTER, c)).toEqual([
      'ring_hash_lb_config.maximum_ring_size: must be less than or equal to 8388608, got 18446744073709551615',
      'load_assignment.endpoints[0].lb_endpoints[0].load_balancing_weight: must be greater than or equal to 1, got 0',
    ]);
  });

  it('map keys, and oneof required inside an Any in a map', () => {
    const c = variant(cluster, (o) => {
      o.metadata.filter_metadata[''] = { fields: {} };
      o.typed_extension_protocol_options[HTTP_OPTIONS] = {
        '@type': TYPE_PREFIX + HTTP_OPTIONS,
        common_http_protocol_options: { max_headers_count: { value: 0 } },
      };
    });
    // Violations come in field number order: metadata is 25, the options 36.
    expect(check(CLUSTER, c)).toEqual([
      'metadata.filter_metadata[""] (key): must be at least 1 character long',
      `typed_extension_protocol_options["${HTTP_OPTIONS}"].upstream_protocol_options: one of explicit_http_config, use_downstream_protocol_config, auto_config must be set`,
      `typed_extension_protocol_options["${HTTP_OPTIONS}"].common_http_protocol_options.max_headers_count: must be greater than or equal to 1, got 0`,
    ]);
  });

  it('string min_len on the resource name', () => {
    expect(
      check(
        CLUSTER,
        variant(cluster, (o) => (o.name = '')),
      ),
    ).toEqual(['name: must be at least 1 character long']);
  });
});

describe('other rules Envoy messages carry', () => {
  it('any.required', () => {
    expect(check('envoy.config.core.v3.TypedExtensionConfig', { name: 'x' })).toEqual([
      'typed_config: is required',
    ]);
  });

  it('bool const', () => {
    const t = 'envoy.config.listener.v3.ListenerFilterChainMatchPredicate';
    expect(check(t, { any_match: false })).toEqual(['any_match: must be true']);
    expect(check(t, { any_match: true })).toEqual([]);
  });

  it('enum not_in', () => {
    expect(
      check('envoy.config.core.v3.HealthCheck.HttpHealthCheck', { path: '/', method: 'CONNECT' }),
    ).toEqual(['method: must not be one of [CONNECT], got CONNECT']);
  });

  it('repeated items string in', () => {
    expect(check('envoy.config.accesslog.v3.ResponseFlagFilter', { flags: ['UH', 'XX'] })).toEqual([
      expect.stringMatching(/^flags\[1\]: must be one of \["LH", "UH", .*"DR"\]$/),
    ]);
  });

  it('map min_pairs', () => {
    expect(check('xds.type.matcher.v3.Matcher.MatcherTree.MatchMap', { map: {} })).toEqual([
      'map: must have at least 1 entry',
    ]);
  });

  it('double gt on a DoubleValue', () => {
    const t = 'envoy.config.core.v3.RateLimitSettings';
    expect(check(t, { fill_rate: { value: 0 } })).toEqual([
      'fill_rate: must be greater than 0, got 0',
    ]);
    expect(check(t, { fill_rate: { value: 0.5 } })).toEqual([]);
    expect(check(t, {})).toEqual([]); // an unset wrapper is not checked
  });

  it('duration gte and lte', () => {
    const t = 'envoy.config.core.v3.QuicProtocolOptions';
    const msg = 'must be greater than or equal to 1s and less than or equal to 600s';
    expect(check(t, { idle_network_timeout: { seconds: 601 } })).toEqual([
      `idle_network_timeout: ${msg}, got 601s`,
    ]);
    expect(check(t, { idle_network_timeout: { nanos: 500000000 } })).toEqual([
      `idle_network_timeout: ${msg}, got 0.5s`,
    ]);
  });

  it('string well_known_regex HTTP_HEADER_NAME, strict: false, with max_bytes', () => {
    const t = 'envoy.config.core.v3.HeaderValue';
    expect(check(t, { key: 'x-a\nb' })).toEqual([
      'key: must be a valid HTTP header name (no NUL, CR or LF)',
    ]);
    expect(check(t, { key: 'x', value: 'v'.repeat(16385) })).toEqual([
      'value: must be at most 16384 bytes long',
    ]);
  });
});

// A proto of our own for the rule kinds Envoy's resources do not exercise.
const KITCHEN = `
syntax = "proto3";
package t;
import "google/protobuf/any.proto";
import "google/protobuf/duration.proto";
import "google/protobuf/timestamp.proto";
import "google/protobuf/wrappers.proto";
import "validate/validate.proto";

enum Color { RED = 0; GREEN = 1; BLUE = 2; }

message Inner { string id = 1 [(validate.rules).string.min_len = 1]; }

message Kitchen {
  int32 i32 = 1 [(validate.rules).int32 = {gt: 0, lt: 10}];
  int64 i64 = 2 [(validate.rules).int64 = {in: [1, 2, 3]}];
  sint64 s64 = 3 [(validate.rules).sint64 = {gte: -5, not_in: [0]}];
  uint64 u64 = 4 [(validate.rules).uint64.lte = 18446744073709551615];
  double outside = 5 [(validate.rules).double = {gt: 10, lt: 5}];
  float f = 6 [(validate.rules).float.gte = 0.5];
  fixed32 fx = 7 [(validate.rules).fixed32.const = 7];
  bytes b = 8 [(validate.rules).bytes = {min_len: 2, max_len: 4, prefix: "ab"}];
  bytes ip = 9 [(validate.rules).bytes = {ipv4: true, ignore_empty: true}];
  google.protobuf.Timestamp ts = 10 [(validate.rules).timestamp = {gt: {seconds: 1000}, lt: {seconds: 2000}}];
  map<string, int32> counts = 11 [(validate.rules).map = {max_pairs: 2, values: {int32: {gte: 0}}}];
  repeated Color colors = 12 [(validate.rules).repeated.items.enum = {defined_only: true, not_in: [2]}];
  optional string opt = 13 [(validate.rules).string.prefix = "x"];
  string header = 14 [(validate.rules).string.well_known_regex = HTTP_HEADER_NAME];
  string value = 15 [(validate.rules).string = {well_known_regex: HTTP_HEADER_VALUE, ignore_empty: true}];
  string misc = 16 [(validate.rules).string = {max_len: 3, suffix: "z", not_in: ["zz"], ignore_empty: true}];
  string pattern = 17 [(validate.rules).string = {pattern: "^[a-z]+$", ignore_empty: true}];
  string host = 18 [(validate.rules).string = {hostname: true, ignore_empty: true}];
  string addr = 19 [(validate.rules).string = {ip: true, ignore_empty: true}];
  Inner checked = 20;
  Inner skipped = 21 [(validate.rules).message.skip = true];
  repeated uint32 ports = 22 [(validate.rules).repeated = {min_items: 1, unique: true, items: {uint32: {lte: 65535}}}];
  google.protobuf.Duration d = 23 [(validate.rules).duration = {in: [{seconds: 1}, {seconds: 2}]}];
  google.protobuf.Any any = 24 [(validate.rules).any = {in: ["type.googleapis.com/t.Inner"]}];
  Color color = 25 [(validate.rules).enum = {in: [0, 1]}];
  google.protobuf.Int32Value wrapped = 26 [(validate.rules).int32.lt = 0];
  map<uint64, Inner> by_id = 27 [(validate.rules).map.keys.uint64.gt = 0];
  string bytes_len = 28 [(validate.rules).string = {min_bytes: 2, len: 2, ignore_empty: true}];
  oneof choice {
    option (validate.required) = true;
    string a = 29 [(validate.rules).string.const = "a"];
    Inner b_inner = 30;
  }
}`;

function kitchenType(): protobuf.Type {
  const root = new protobuf.Root();
  for (const f of ['any', 'duration', 'timestamp', 'wrappers']) {
    const json = protobuf.common.get(`google/protobuf/${f}.proto`);
    if (json?.nested) root.addJSON(json.nested);
  }
  protobuf.parse(KITCHEN, root, { keepCase: true });
  root.resolveAll();
  return root.lookupType('t.Kitchen');
}

describe('the rule kinds Envoy does not use (a proto of our own)', () => {
  const Kitchen = kitchenType();
  const valid = (): Any => ({
    i32: 5,
    i64: 2,
    s64: -5,
    u64: '18446744073709551615',
    outside: 11,
    f: 0.5,
    fx: 7,
    b: Buffer.from('abc'),
    ts: { seconds: 1500 },
    counts: { a: 1 },
    colors: ['RED', 'GREEN'],
    header: ':authority',
    checked: { id: 'x' },
    skipped: { id: '' },
    ports: [80, 443],
    a: 'a',
  });
  const run = (change: (o: Any) => void): string[] => {
    const obj = variant(valid, change);
    const fromObject = validateMessage(Kitchen, obj);
    const decoded = Kitchen.decode(Kitchen.encode(Kitchen.fromObject(obj)).finish());
    expect(validateMessage(Kitchen, decoded)).toEqual(fromObject);
    return fromObject;
  };

  it('a valid message gives [] (message.skip skips the invalid nested message)', () => {
    expect(run(() => {})).toEqual([]);
  });

  it('numbers: ranges, in, not_in, const; 64-bit bounds without precision loss', () => {
    expect(
      run((o) => {
        o.i32 = 10;
        o.i64 = '9007199254740993';
        o.s64 = 0;
        o.outside = 7;
        o.f = 0.25;
        o.fx = 8;
        o.wrapped = { value: 3 };
      }),
    ).toEqual([
      'i32: must be greater than 0 and less than 10, got 10',
      'i64: must be one of [1, 2, 3], got 9007199254740993',
      's64: must not be one of [0], got 0',
      'outside: must be greater than 10 or less than 5, got 7',
      'f: must be greater than or equal to 0.5, got 0.25',
      'fx: must equal 7, got 8',
      'wrapped: must be less than 0, got 3',
    ]);
    // Unset plain scalars are checked at their default value (PGV semantics).
    expect(run((o) => delete o.i32)).toEqual([
      'i32: must be greater than 0 and less than 10, got 0',
    ]);
  });

  it('bytes: min_len, max_len, prefix, ipv4 (ignore_empty)', () => {
    expect(run((o) => (o.b = Buffer.from('a')))).toEqual([
      'b: must be at least 2 bytes long',
      'b: must start with the prefix',
    ]);
    expect(run((o) => (o.b = Buffer.from('abcde')))).toEqual(['b: must be at most 4 bytes long']);
    expect(run((o) => (o.ip = Buffer.from([10, 0, 0])))).toEqual([
      'ip: must be an IPv4 address in bytes',
    ]);
  });

  it('timestamp gt/lt, duration in, any in', () => {
    expect(
      run((o) => {
        o.ts = { seconds: 2000 };
        o.d = { seconds: 3 };
        o.any = { '@type': TYPE_PREFIX + 'google.protobuf.Duration', seconds: 1 };
      }),
    ).toEqual([
      'ts: must be greater than 1970-01-01T00:16:40.000Z and less than 1970-01-01T00:33:20.000Z, got 1970-01-01T00:33:20.000Z',
      'd: must be one of [1s, 2s], got 3s',
      'any: type URL must be one of [type.googleapis.com/t.Inner], got "type.googleapis.com/google.protobuf.Duration"',
    ]);
  });

  it('maps: max_pairs, values, keys (uint64 keys, decoded as protobufjs long hashes)', () => {
    expect(
      run((o) => {
        o.counts = { a: 1, b: -1, c: 2 };
        o.by_id = { 0: { id: 'x' }, 7: { id: '' } };
      }),
    ).toEqual([
      'counts: must have at most 2 entries',
      'counts["b"]: must be greater than or equal to 0, got -1',
      'by_id["0"] (key): must be greater than 0, got 0',
      'by_id["7"].id: must be at least 1 character long',
    ]);
  });

  it('repeated: min_items, unique, items (enum defined_only and not_in, uint32 lte)', () => {
    expect(
      run((o) => {
        o.colors = ['GREEN', 5, 'BLUE'];
        o.ports = [80, 80, 70000];
      }),
    ).toEqual([
      'colors[1]: must be a defined t.Color value, got 5',
      'colors[2]: must not be one of [BLUE], got BLUE',
      'ports[1]: must be unique, repeats 80',
      'ports[2]: must be less than or equal to 65535, got 70000',
    ]);
    expect(run((o) => (o.ports = []))).toEqual(['ports: must have at least 1 item']);
  });

  it('strings: prefix on a proto3 optional (only when set), strict header name/value, ...', () => {
    expect(run((o) => (o.opt = ''))).toEqual(['opt: must start with "x"']);
    expect(
      run((o) => {
        o.header = 'x a';
        o.value = 'a\u0001';
        o.misc = 'zzzz';
        o.pattern = 'A';
        o.host = '-bad-.example';
        o.addr = '10.0.0.256';
        o.bytes_len = 'é';
      }),
    ).toEqual([
      'header: must be a valid HTTP header name',
      'value: must be a valid HTTP header value',
      'misc: must be at most 3 characters long',
      'pattern: must match the pattern ^[a-z]+$',
      'host: must be a valid hostname',
      'addr: must be a valid IP address',
      'bytes_len: must be exactly 2 characters long',
    ]);
    expect(run((o) => (o.misc = 'zz'))).toEqual(['misc: must not be one of ["zz"]']);
    expect(run((o) => delete o.header)).toEqual(['header: must be a valid HTTP header name']);
  });

  it('oneof: required, and rules of the set member', () => {
    expect(run((o) => delete o.a)).toEqual(['choice: one of a, b_inner must be set']);
    expect(run((o) => (o.a = 'b'))).toEqual(['a: must equal "a"']);
    expect(
      run((o) => {
        delete o.a;
        o.b_inner = {};
      }),
    ).toEqual(['b_inner.id: must be at least 1 character long']);
  });
});

describe('performance', () => {
  it('validates thousands of resources quickly', () => {
    const type = lookupType(RC);
    const big = routeConfig() as Any;
    const vh = big.virtual_hosts[0];
    vh.routes = Array.from({ length: 20 }, (_, i) => ({
      ...vh.routes[0],
      match: { prefix: `/p${i}`, headers: [{ name: 'x-v', string_match: { exact: `${i}` } }] },
    }));
    big.virtual_hosts = Array.from({ length: 5 }, (_, i) => ({ ...vh, name: `vh${i}` }));
    const decoded = type.decode(type.encode(type.fromObject(big)).finish());
    const start = performance.now();
    for (let i = 0; i < 2000; i++) expect(validateMessage(type, decoded)).toHaveLength(0);
    // 2000 RouteConfigurations of 100 routes each; typically well under a second.
    expect(performance.now() - start).toBeLessThan(10_000);
  });
});
