// Interop with an independent xDS client: @grpc/grpc-js-xds, the gRPC team's
// proxyless xDS implementation, resolves xds:///app.example.com against
// gatefleet's ADS server and makes real gRPC calls that gatefleet's routes
// send to one backend or the other by header.
import * as grpc from '@grpc/grpc-js';
import * as grpcXds from '@grpc/grpc-js-xds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inputsOf, translate } from '../../controller/translator/index.js';
import { SnapshotCache } from '../../xds/cache.js';
import { publishIR } from '../../xds/publish.js';
import { XdsServer } from '../../xds/server/ads-server.js';

const ECHO = {
  Echo: {
    path: '/gatefleet.test.Echo/Echo',
    requestStream: false,
    responseStream: false,
    requestSerialize: (b: Buffer) => b,
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: (b: Buffer) => b,
    responseDeserialize: (b: Buffer) => b,
  },
} satisfies grpc.ServiceDefinition;

async function backend(name: string): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server();
  server.addService(ECHO, {
    Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) =>
      cb(null, Buffer.from(`${name}:${call.request.toString()}`)),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  return { server, port };
}

function cluster(
  portA: number,
  portB: number,
  defaultBackend = 'echo-a',
): Record<string, unknown>[] {
  const svc = (name: string, port: number) => [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: 'apps' },
      spec: { ports: [{ name: 'grpc', port: 50051, appProtocol: 'kubernetes.io/h2c' }] },
    },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: `${name}-1`,
        namespace: 'apps',
        labels: { 'kubernetes.io/service-name': name },
      },
      addressType: 'IPv4',
      ports: [{ name: 'grpc', port }],
      endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }],
    },
  ];
  return [
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'GatewayClass',
      metadata: { name: 'gatefleet' },
      spec: { controllerName: 'gatefleet.io/gateway-controller' },
    },
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: 'mesh', namespace: 'apps' },
      spec: {
        gatewayClassName: 'gatefleet',
        listeners: [{ name: 'grpc', port: 8080, protocol: 'HTTP' }],
      },
    },
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'echo', namespace: 'apps' },
      spec: {
        parentRefs: [{ name: 'mesh' }],
        hostnames: ['app.example.com'],
        rules: [
          {
            matches: [{ headers: [{ name: 'x-variant', value: 'b' }] }],
            backendRefs: [{ name: 'echo-b', port: 50051 }],
          },
          { backendRefs: [{ name: defaultBackend, port: 50051 }] },
        ],
      },
    },
    ...svc('echo-a', portA),
    ...svc('echo-b', portB),
  ];
}

describe('interop with @grpc/grpc-js-xds', () => {
  let xds: XdsServer;
  let cache: SnapshotCache;
  let ports: [number, number];
  const backends: grpc.Server[] = [];
  let client: grpc.Client & {
    Echo: (
      req: Buffer,
      md: grpc.Metadata,
      opts: grpc.CallOptions,
      cb: (e: grpc.ServiceError | null, r?: Buffer) => void,
    ) => void;
  };

  beforeAll(async () => {
    const a = await backend('echo-a');
    const b = await backend('echo-b');
    backends.push(a.server, b.server);
    cache = new SnapshotCache();
    ports = [a.port, b.port];
    const { ir } = translate(inputsOf(cluster(a.port, b.port)), { now: '2026-01-01T00:00:00Z' });
    expect(publishIR(ir, cache).rejected).toEqual([]);
    xds = new XdsServer({ cache });
    const port = await xds.listen('127.0.0.1:0');
    process.env.GRPC_XDS_BOOTSTRAP_CONFIG = JSON.stringify({
      xds_servers: [
        {
          server_uri: `127.0.0.1:${port}`,
          channel_creds: [{ type: 'insecure' }],
          server_features: ['xds_v3'],
        },
      ],
      node: { id: 'grpc-client-1', cluster: 'apps/mesh', locality: {} },
    });
    grpcXds.register();
    const Client = grpc.makeGenericClientConstructor(ECHO, 'Echo');
    client = new Client('xds:///app.example.com', grpc.credentials.createInsecure()) as never;
  });

  afterAll(async () => {
    client?.close();
    await xds?.close();
    for (const s of backends) s.forceShutdown();
  });

  const call = (variant?: string) =>
    new Promise<string>((resolve, reject) => {
      const md = new grpc.Metadata();
      if (variant) md.set('x-variant', variant);
      client.Echo(Buffer.from('hi'), md, { deadline: Date.now() + 10_000 }, (e, r) =>
        e ? reject(e) : resolve(r!.toString()),
      );
    });

  it('resolves the target through gatefleet and calls the backend its routes choose', async () => {
    expect(await call()).toBe('echo-a:hi');
    expect(await call('b')).toBe('echo-b:hi');
    const node = xds.nodes.get('grpc-client-1')!;
    expect(node.nodeGroup).toBe('apps/mesh');
    expect(Object.values(node.types).every((t) => t.lastNack === undefined)).toBe(true);
  });

  it('follows a route change pushed by gatefleet without reconnecting', async () => {
    const { ir } = translate(inputsOf(cluster(ports[0], ports[1], 'echo-b')), {
      now: '2026-01-01T00:00:00Z',
    });
    expect(publishIR(ir, cache).changed).toEqual(['apps/mesh']);
    const deadline = Date.now() + 5_000;
    let answer = await call();
    while (answer !== 'echo-b:hi' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      answer = await call();
    }
    expect(answer).toBe('echo-b:hi');
  });
});
