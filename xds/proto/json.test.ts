// toProto3Json/fromBytes on real Envoy resources built the way gatefleet builds them
// (snake_case plain objects, Any as {'@type': ...}), with the exact canonical JSON expected.
import { createRequire } from 'node:module';
import type protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { fromBytes, toProto3Json } from './json.js';
import { lookupType, TYPE_PREFIX } from './root.js';

const require = createRequire(import.meta.url);
// protobufjs' own ProtoJSON printer, as an independent (key-order-insensitive) cross-check.
const protojson = require('protobufjs/ext/protojson.js') as {
  toJson(type: protobuf.Type, message: protobuf.Message): unknown;
};

const HCM = 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER = 'envoy.extensions.filters.http.router.v3.Router';
const CORS = 'envoy.extensions.filters.http.cors.v3.CorsPolicy';
const HTTP_OPTIONS = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

/** Compares as JSON text, so key order counts too. */
function expectJson(actual: unknown, expected: unknown): void {
  expect(JSON.stringify(actual, null, 2)).toBe(JSON.stringify(expected, null, 2));
}

function roundTrip(typeName: string, obj: object): unknown {
  const type = lookupType(typeName);
  return fromBytes(type, type.encode(type.fromObject(obj)).finish());
}

const listener = {
  name: 'default/gw/http',
  address: { socket_address: { address: '0.0.0.0', port_value: 8080 } },
  filter_chains: [
    {
      filters: [
        {
          name: 'envoy.filters.network.http_connection_manager',
          typed_config: {
            '@type': TYPE_PREFIX + HCM,
            codec_type: 'AUTO', // the enum's default: omitted
            stat_prefix: 'http-8080',
            rds: {
              route_config_name: 'default/gw/http',
              config_source: { ads: {}, resource_api_version: 'V3' },
            },
            http_filters: [
              {
                name: 'envoy.filters.http.router',
                typed_config: { '@type': TYPE_PREFIX + ROUTER },
              },
            ],
            common_http_protocol_options: { idle_timeout: { seconds: 3600 } },
            use_remote_address: { value: true },
            normalize_path: { value: false }, // a set wrapper prints even when false
            merge_slashes: false, // a plain proto3 bool at its default: omitted
          },
        },
      ],
    },
  ],
  per_connection_buffer_limit_bytes: { value: 32768 },
  traffic_direction: 'INBOUND',
};

const listenerJson = {
  name: 'default/gw/http',
  address: { socketAddress: { address: '0.0.0.0', portValue: 8080 } },
  filterChains: [
    {
      filters: [
        {
          name: 'envoy.filters.network.http_connection_manager',
          typedConfig: {
            '@type': TYPE_PREFIX + HCM,
            statPrefix: 'http-8080',
            rds: {
              configSource: { ads: {}, resourceApiVersion: 'V3' },
              routeConfigName: 'default/gw/http',
            },
            httpFilters: [
              {
                name: 'envoy.filters.http.router',
                typedConfig: { '@type': TYPE_PREFIX + ROUTER },
              },
            ],
            useRemoteAddress: true, // 14
            normalizePath: false, // 30
            commonHttpProtocolOptions: { idleTimeout: '3600s' }, // 35
          },
        },
      ],
    },
  ],
  perConnectionBufferLimitBytes: 32768,
  trafficDirection: 'INBOUND',
};

const routeConfig = {
  name: 'default/gw/http',
  virtual_hosts: [
    {
      name: 'example.com',
      domains: ['example.com', 'example.com:*'],
      routes: [
        {
          name: 'default/route/0',
          match: {
            prefix: '', // a oneof member at its default value is still set
            headers: [{ name: 'x-version', range_match: { start: -10, end: '9007199254740993' } }],
          },
          route: {
            cluster: 'default/backend/8080',
            timeout: { seconds: 1, nanos: 500000000 },
            retry_policy: {
              retry_on: '5xx',
              num_retries: { value: 3 },
              per_try_timeout: { nanos: 250000 },
            },
          },
          typed_per_filter_config: {
            'envoy.filters.http.cors': {
              '@type': TYPE_PREFIX + CORS,
              allow_origin_string_match: [{ exact: 'https://a.example' }, { suffix: '.b.example' }],
              allow_methods: 'GET,POST',
              max_age: '600',
              allow_credentials: { value: true },
            },
          },
        },
        {
          match: { path: '/old' },
          redirect: { path_redirect: '/new', response_code: 'FOUND' },
        },
      ],
      require_tls: 'NONE',
      request_headers_to_add: [
        {
          header: { key: 'x-raw', raw_value: Buffer.from([0xff, 0x00, 0x61]) },
          append_action: 'OVERWRITE_IF_EXISTS_OR_ADD',
        },
      ],
    },
  ],
};

const routeConfigJson = {
  name: 'default/gw/http',
  virtualHosts: [
    {
      name: 'example.com',
      domains: ['example.com', 'example.com:*'],
      routes: [
        {
          match: {
            prefix: '',
            headers: [{ name: 'x-version', rangeMatch: { start: '-10', end: '9007199254740993' } }],
          },
          route: {
            cluster: 'default/backend/8080',
            timeout: '1.500s',
            retryPolicy: { retryOn: '5xx', numRetries: 3, perTryTimeout: '0.000250s' },
          },
          typedPerFilterConfig: {
            'envoy.filters.http.cors': {
              '@type': TYPE_PREFIX + CORS,
              allowOriginStringMatch: [{ exact: 'https://a.example' }, { suffix: '.b.example' }],
              allowMethods: 'GET,POST',
              maxAge: '600',
              allowCredentials: true,
            },
          },
          name: 'default/route/0',
        },
        { match: { path: '/old' }, redirect: { pathRedirect: '/new', responseCode: 'FOUND' } },
      ],
      requestHeadersToAdd: [
        {
          header: { key: 'x-raw', rawValue: '/wBh' },
          appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD',
        },
      ],
    },
  ],
};

const cluster = {
  name: 'default/backend/8080',
  type: 'STATIC', // a oneof member: printed although it is the enum's zero value
  connect_timeout: { seconds: 5 },
  per_connection_buffer_limit_bytes: { value: 1048576 },
  lb_policy: 'RING_HASH',
  ring_hash_lb_config: { minimum_ring_size: { value: '4096' }, maximum_ring_size: { value: 8 } },
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
  dns_refresh_rate: { seconds: -2, nanos: -5000000 },
  typed_extension_protocol_options: {
    [HTTP_OPTIONS]: {
      '@type': TYPE_PREFIX + HTTP_OPTIONS,
      explicit_http_config: { http2_protocol_options: {} },
    },
  },
  metadata: {
    filter_metadata: {
      // protobufjs' built-in google.protobuf.Value has camelCase field names.
      'gatefleet.io': {
        fields: {
          route: { stringValue: 'default/web' },
          weight: { numberValue: 1.5 },
          tags: {
            listValue: { values: [{ boolValue: true }, { nullValue: 'NULL_VALUE' }] },
          },
          owner: { structValue: { fields: { kind: { stringValue: 'HTTPRoute' } } } },
        },
      },
    },
  },
};

const clusterJson = {
  name: 'default/backend/8080',
  type: 'STATIC',
  connectTimeout: '5s',
  perConnectionBufferLimitBytes: 1048576,
  lbPolicy: 'RING_HASH',
  dnsRefreshRate: '-2.005s',
  ringHashLbConfig: { minimumRingSize: '4096', maximumRingSize: '8' },
  metadata: {
    filterMetadata: {
      'gatefleet.io': {
        owner: { kind: 'HTTPRoute' },
        route: 'default/web',
        tags: [true, null],
        weight: 1.5,
      },
    },
  },
  loadAssignment: {
    clusterName: 'default/backend/8080',
    endpoints: [
      {
        lbEndpoints: [
          {
            endpoint: { address: { socketAddress: { address: '10.0.0.7', portValue: 8080 } } },
            loadBalancingWeight: 1,
          },
        ],
      },
    ],
  },
  typedExtensionProtocolOptions: {
    [HTTP_OPTIONS]: {
      '@type': TYPE_PREFIX + HTTP_OPTIONS,
      explicitHttpConfig: { http2ProtocolOptions: {} },
    },
  },
};

const fixtures: [string, string, object, unknown][] = [
  [
    'a Listener with an HttpConnectionManager in an Any',
    'envoy.config.listener.v3.Listener',
    listener,
    listenerJson,
  ],
  [
    'a RouteConfiguration',
    'envoy.config.route.v3.RouteConfiguration',
    routeConfig,
    routeConfigJson,
  ],
  ['a Cluster', 'envoy.config.cluster.v3.Cluster', cluster, clusterJson],
];

describe('toProto3Json', () => {
  describe.each(fixtures)('%s', (_what, typeName, obj, json) => {
    const type = lookupType(typeName);

    it('prints the canonical JSON, keys in field number order', () => {
      expectJson(roundTrip(typeName, obj), json);
    });

    it('prints a plain object (converted with fromObject) the same as the decoded message', () => {
      expectJson(toProto3Json(type, obj), json);
      expectJson(toProto3Json(type, type.fromObject(obj)), json);
    });

    it('agrees with protobufjs ext/protojson', () => {
      const decoded = type.decode(type.encode(type.fromObject(obj)).finish());
      expect(toProto3Json(type, decoded)).toEqual(protojson.toJson(type, decoded));
    });
  });

  it('omits fields at their default value and empty repeated/map fields', () => {
    const type = lookupType('envoy.config.cluster.v3.Cluster');
    const obj = {
      name: '',
      connect_timeout: { seconds: 0 },
      lb_policy: 'ROUND_ROBIN',
      respect_dns_ttl: false,
      health_checks: [],
      typed_extension_protocol_options: {},
    };
    expectJson(roundTrip('envoy.config.cluster.v3.Cluster', obj), { connectTimeout: '0s' });
    expectJson(toProto3Json(type, obj), { connectTimeout: '0s' });
    expectJson(toProto3Json(type, {}), {});
  });

  it('prints enum values the enum does not define as numbers', () => {
    expectJson(roundTrip('envoy.config.cluster.v3.Cluster', { name: 'c', lb_policy: 42 }), {
      name: 'c',
      lbPolicy: 42,
    });
  });

  it('sorts map keys, so equal maps print equally', () => {
    const type = lookupType('envoy.config.route.v3.VirtualHost');
    const any = (n: number): object => ({
      '@type': TYPE_PREFIX + 'google.protobuf.UInt32Value',
      value: n,
    });
    const a = toProto3Json(type, { typed_per_filter_config: { b: any(2), a: any(1) } });
    const b = toProto3Json(type, { typed_per_filter_config: { a: any(1), b: any(2) } });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expectJson(a, {
      typedPerFilterConfig: {
        a: { '@type': TYPE_PREFIX + 'google.protobuf.UInt32Value', value: 1 },
        b: { '@type': TYPE_PREFIX + 'google.protobuf.UInt32Value', value: 2 },
      },
    });
  });
});

describe('well-known types', () => {
  const print = (name: string, obj: object): unknown => roundTrip(`google.protobuf.${name}`, obj);

  it('Duration', () => {
    expect(print('Duration', { seconds: 1, nanos: 500000000 })).toBe('1.500s');
    expect(print('Duration', { seconds: 1 })).toBe('1s');
    expect(print('Duration', {})).toBe('0s');
    expect(print('Duration', { nanos: 1 })).toBe('0.000000001s');
    expect(print('Duration', { nanos: 10000 })).toBe('0.000010s');
    expect(print('Duration', { nanos: -500000000 })).toBe('-0.500s');
    expect(print('Duration', { seconds: '-315576000000' })).toBe('-315576000000s');
    expect(() => print('Duration', { seconds: 1, nanos: -1 })).toThrow(/out of range/);
    expect(() => print('Duration', { seconds: '315576000001' })).toThrow(/out of range/);
  });

  it('Timestamp', () => {
    expect(print('Timestamp', {})).toBe('1970-01-01T00:00:00Z');
    expect(print('Timestamp', { seconds: 1700000000, nanos: 123000000 })).toBe(
      '2023-11-14T22:13:20.123Z',
    );
    expect(print('Timestamp', { seconds: -62135596800, nanos: 5 })).toBe(
      '0001-01-01T00:00:00.000000005Z',
    );
    expect(() => print('Timestamp', { seconds: 253402300800 })).toThrow(/out of range/);
  });

  it('wrappers print their plain value, defaults included', () => {
    expect(print('BoolValue', { value: false })).toBe(false);
    expect(print('UInt32Value', {})).toBe(0);
    expect(print('Int32Value', { value: -7 })).toBe(-7);
    expect(print('UInt64Value', { value: '18446744073709551615' })).toBe('18446744073709551615');
    expect(print('Int64Value', { value: '-9223372036854775808' })).toBe('-9223372036854775808');
    expect(print('StringValue', { value: 'x' })).toBe('x');
    expect(print('BytesValue', { value: Buffer.from('hi') })).toBe('aGk=');
    expect(print('DoubleValue', { value: 0.1 })).toBe(0.1);
    expect(print('DoubleValue', { value: Number.NaN })).toBe('NaN');
    expect(print('DoubleValue', { value: -Infinity })).toBe('-Infinity');
    expect(print('FloatValue', { value: 0.1 })).toBe(0.1); // not 0.10000000149011612
    expect(print('FloatValue', { value: 3.4e38 })).toBe(3.4e38);
  });

  it('Struct, Value and ListValue as JSON; Empty as {}', () => {
    expectJson(
      print('Struct', {
        fields: { b: { numberValue: 2 }, a: { listValue: { values: [{ stringValue: 's' }] } } },
      }),
      { a: ['s'], b: 2 },
    );
    expect(print('Value', { nullValue: 0 })).toBe(null);
    expect(print('ListValue', {})).toEqual([]);
    expectJson(print('Empty', {}), {});
    expect(() => print('Value', {})).toThrow(/no kind/);
  });

  it('Any: fields inline, or a "value" for well-known types with a special form', () => {
    expectJson(print('Any', { '@type': TYPE_PREFIX + ROUTER, suppress_envoy_headers: true }), {
      '@type': TYPE_PREFIX + ROUTER,
      suppressEnvoyHeaders: true,
    });
    expectJson(print('Any', { '@type': TYPE_PREFIX + 'google.protobuf.Duration', seconds: 3 }), {
      '@type': TYPE_PREFIX + 'google.protobuf.Duration',
      value: '3s',
    });
    expectJson(print('Any', { '@type': TYPE_PREFIX + 'google.protobuf.Empty' }), {
      '@type': TYPE_PREFIX + 'google.protobuf.Empty',
    });
    // protobufjs' fromObject recurses forever on {'@type': '.../google.protobuf.Any'}:
    // an Any in an Any has to be packed by hand.
    const any = lookupType('google.protobuf.Any');
    const inner = any.fromObject({
      '@type': TYPE_PREFIX + 'google.protobuf.BoolValue',
      value: true,
    });
    const outer = any.create({
      type_url: TYPE_PREFIX + 'google.protobuf.Any',
      value: any.encode(inner).finish(),
    });
    expectJson(fromBytes(any, any.encode(outer).finish()), {
      '@type': TYPE_PREFIX + 'google.protobuf.Any',
      value: { '@type': TYPE_PREFIX + 'google.protobuf.BoolValue', value: true },
    });
    expectJson(print('Any', {}), {});
  });

  it('Any with a type the root does not know throws', () => {
    const type = lookupType('google.protobuf.Any');
    const m = type.create({
      type_url: TYPE_PREFIX + 'example.Unknown',
      value: Buffer.from([8, 1]),
    });
    expect(() => toProto3Json(type, m)).toThrow(
      /unknown type type.googleapis.com\/example.Unknown/,
    );
  });
});
