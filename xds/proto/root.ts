// Envoy's v3 protos, loaded once with protobufjs from the copy that
// @grpc/grpc-js-xds ships (deps/), for building, validating and encoding the
// resources gatefleet serves. Field names keep their proto case (snake_case),
// like the generated types in xds/generated/.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import protobuf from 'protobufjs';

const require = createRequire(import.meta.url);

/** Where Envoy's .proto files and their imports live. */
export function protoIncludeDirs(): string[] {
  const deps = join(dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
  const pbjs = dirname(require.resolve('protobufjs/package.json'));
  return [
    ...['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => join(deps, d)),
    pbjs,
  ];
}

/** Must match hack/codegen/gen-envoy-types.mjs (the generated types cover the same set). */
export const PROTO_FILES = [
  'envoy/service/discovery/v3/ads.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/extensions/transport_sockets/tls/v3/secret.proto',
  'envoy/extensions/transport_sockets/tls/v3/tls.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/filters/http/cors/v3/cors.proto',
  'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
  'envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.proto',
];

let root: protobuf.Root | undefined;

export function envoyRoot(): protobuf.Root {
  if (root) return root;
  const dirs = protoIncludeDirs();
  const r = new protobuf.Root();
  r.resolvePath = (_origin: string, target: string): string => {
    for (const d of dirs) {
      const p = join(d, target);
      if (existsSync(p)) return p;
    }
    return target;
  };
  r.loadSync(PROTO_FILES, { keepCase: true });
  r.resolveAll();
  root = r;
  return r;
}

export function lookupType(fullName: string): protobuf.Type {
  return envoyRoot().lookupType(fullName);
}

export const TYPE_PREFIX = 'type.googleapis.com/';

/** The xDS resource types gatefleet serves, in the order a push sends them. */
export const TypeUrl = {
  Cluster: `${TYPE_PREFIX}envoy.config.cluster.v3.Cluster`,
  ClusterLoadAssignment: `${TYPE_PREFIX}envoy.config.endpoint.v3.ClusterLoadAssignment`,
  Secret: `${TYPE_PREFIX}envoy.extensions.transport_sockets.tls.v3.Secret`,
  Listener: `${TYPE_PREFIX}envoy.config.listener.v3.Listener`,
  RouteConfiguration: `${TYPE_PREFIX}envoy.config.route.v3.RouteConfiguration`,
} as const;

export type TypeUrlValue = (typeof TypeUrl)[keyof typeof TypeUrl];

/** CDS → EDS → SDS → LDS → RDS: everything a resource refers to arrives before it. */
export const PUSH_ORDER: readonly TypeUrlValue[] = [
  TypeUrl.Cluster,
  TypeUrl.ClusterLoadAssignment,
  TypeUrl.Secret,
  TypeUrl.Listener,
  TypeUrl.RouteConfiguration,
];

export function typeOfUrl(url: string): protobuf.Type {
  return lookupType(url.slice(url.lastIndexOf('/') + 1));
}
