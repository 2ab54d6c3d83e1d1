#!/usr/bin/env node
// Generates TypeScript types for the Envoy v3 messages gatefleet builds and
// serves (xds/generated/), with proto-loader-gen-types, from Envoy's own
// .proto files as shipped in @grpc/grpc-js-xds's deps/. The generated tree is
// committed; a test regenerates it into a temporary directory and compares.
//
// Usage: node hack/codegen/gen-envoy-types.mjs [outDir]
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
export const protoDeps = join(dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
export const includeDirs = ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) =>
  join(protoDeps, d),
);
export const outDir = join(root, 'xds', 'generated');

/** The .proto files whose messages gatefleet uses; their imports come along. */
export const protoFiles = [
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

export function generate(target = outDir) {
  rmSync(target, { recursive: true, force: true });
  const bin = join(
    dirname(require.resolve('@grpc/proto-loader/package.json')),
    'build',
    'bin',
    'proto-loader-gen-types.js',
  );
  const args = [
    bin,
    '--keepCase',
    '--longs',
    'String',
    '--enums',
    'String',
    '--oneofs',
    '--grpcLib',
    '@grpc/grpc-js',
    '--importFileExtension',
    '.js',
    '--outDir',
    target,
    '--includeDirs',
    ...includeDirs,
    '--',
    ...protoFiles,
  ];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`proto-loader-gen-types failed:\n${r.stderr}`);
  // The generator names each source .proto by absolute path; make it relative
  // to the repository so the output is the same on every machine.
  for (const file of listFiles(target)) {
    const text = readFileSync(file, 'utf8');
    const fixed = text.replace(
      /^\/\/ Original file: (.*)$/gm,
      (_, p) => `// Original file: ${relative(root, p)}`,
    );
    if (fixed !== text) writeFileSync(file, fixed);
  }
}

/** Every file under `dir`, recursively, sorted. */
export function listFiles(dir) {
  return readdirSync(dir)
    .flatMap((f) => {
      const p = join(dir, f);
      return statSync(p).isDirectory() ? listFiles(p) : [p];
    })
    .sort();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  generate(process.argv[2] ?? outDir);
  console.log(`wrote ${process.argv[2] ?? outDir}`);
}
