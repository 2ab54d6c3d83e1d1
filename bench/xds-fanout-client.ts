// Simulated gateways for the xDS fan-out benchmark (bench/xds-fanout-bench.ts
// forks this script): N real ADS streams over loopback, one gRPC connection
// each, behaving like Envoy. State of the world: CDS and LDS wildcard, then
// EDS, RDS and SDS by the names the clusters and listeners carry. Delta:
// wildcard on every type. Every response is ACKed at once (version and nonce
// echoed). Per client the script records, since the last `mark`, the
// responses, resources and encoded response bytes it received and when it
// sent its last ACK (wall-clock ms: performance.timeOrigin + performance.now(),
// the clock the server process reads too).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import type { DeltaDiscoveryRequest } from '../xds/generated/envoy/service/discovery/v3/DeltaDiscoveryRequest.js';
import type { DeltaDiscoveryResponse__Output } from '../xds/generated/envoy/service/discovery/v3/DeltaDiscoveryResponse.js';
import type { DiscoveryRequest } from '../xds/generated/envoy/service/discovery/v3/DiscoveryRequest.js';
import type { DiscoveryResponse__Output } from '../xds/generated/envoy/service/discovery/v3/DiscoveryResponse.js';
import { protoIncludeDirs, TypeUrl } from '../xds/proto/root.js';
import { adsProto } from '../xds/server/ads-server.js';

export type Mode = 'sotw' | 'delta';

/** Parent → client process. */
export type ClientCommand =
  | { cmd: 'start'; port: number; mode: Mode; clients: number; groups: string[]; idPrefix: string }
  | { cmd: 'mark' }
  | { cmd: 'report' }
  | { cmd: 'stop' };

export interface ClientStats {
  id: string;
  group: string;
  responses: number;
  /** Resources received, plus names listed in removed_resources (delta). */
  resources: number;
  /** Encoded DiscoveryResponse / DeltaDiscoveryResponse bytes (gRPC message payloads). */
  bytes: number;
  /** Wall-clock ms of the last ACK sent since the mark (0: none). */
  lastAckAt: number;
}

/** Client process → parent. */
export type ClientEvent =
  | { ev: 'ready' }
  | { ev: 'started' }
  | { ev: 'marked' }
  | { ev: 'report'; stats: ClientStats[]; cpuMs: number }
  | { ev: 'error'; message: string };

const now = () => performance.timeOrigin + performance.now();

/** A decoded response with the size of its encoded message. */
interface Sized<T> {
  size: number;
  msg: T;
}

type Duplex<Req, Res> = grpc.ClientDuplexStream<Req, Sized<Res>>;

interface AdsStub extends grpc.Client {
  StreamAggregatedResources(): Duplex<DiscoveryRequest, DiscoveryResponse__Output>;
  DeltaAggregatedResources(): Duplex<DeltaDiscoveryRequest, DeltaDiscoveryResponse__Output>;
}

/** The ADS client class, with deserializers that also report each message's encoded size. */
function adsClientClass(): new (
  address: string,
  creds: grpc.ChannelCredentials,
  options: grpc.ChannelOptions,
) => AdsStub {
  const svc = adsProto().envoy.service.discovery.v3.AggregatedDiscoveryService.service;
  const def: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(svc)) {
    const m = method as grpc.MethodDefinition<unknown, unknown>;
    def[name] = {
      ...m,
      responseDeserialize: (buf: Buffer) => ({ size: buf.length, msg: m.responseDeserialize(buf) }),
    };
  }
  return grpc.makeGenericClientConstructor(
    def as grpc.ServiceDefinition,
    'AggregatedDiscoveryService',
  ) as never;
}

// Decoding of clusters and listeners, to learn the EDS, RDS and SDS names.
// Every client of a node group gets the same responses, so the names learned
// from one (type, version) are memoised for the process: the simulator's
// CPU then goes to the protocol, as it would in one Envoy per machine.
let root: protobuf.Root | undefined;
function envoyType(name: string): protobuf.Type {
  if (!root) {
    const dirs = protoIncludeDirs();
    const r = new protobuf.Root();
    r.resolvePath = (_origin: string, target: string): string => {
      for (const d of dirs) {
        const p = join(d, target);
        if (existsSync(p)) return p;
      }
      return target;
    };
    r.loadSync(
      [
        'envoy/config/cluster/v3/cluster.proto',
        'envoy/config/listener/v3/listener.proto',
        'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
        'envoy/extensions/transport_sockets/tls/v3/tls.proto',
      ],
      { keepCase: true },
    );
    r.resolveAll();
    root = r;
  }
  return root.lookupType(name);
}

interface AnyMsg {
  type_url?: string;
  value?: Uint8Array;
}

function decode<T>(typeName: string, value: Uint8Array | undefined): T {
  return envoyType(typeName).toObject(envoyType(typeName).decode(value ?? new Uint8Array()), {
    defaults: false,
  }) as T;
}

interface Learned {
  [type: string]: string[];
}

const learnedCache = new Map<string, Learned>();

function learn(r: DiscoveryResponse__Output): Learned {
  const key = `${r.type_url} ${r.version_info}`;
  const hit = learnedCache.get(key);
  if (hit) return hit;
  const out: Learned = {};
  if (r.type_url === TypeUrl.Cluster) {
    const eds = new Set<string>();
    for (const any of r.resources ?? []) {
      const c = decode<{ name: string; eds_cluster_config?: { service_name?: string } }>(
        'envoy.config.cluster.v3.Cluster',
        any.value,
      );
      if (c.eds_cluster_config) eds.add(c.eds_cluster_config.service_name || c.name);
    }
    out[TypeUrl.ClusterLoadAssignment] = [...eds].sort();
  } else if (r.type_url === TypeUrl.Listener) {
    const rds = new Set<string>();
    const sds = new Set<string>();
    for (const any of r.resources ?? []) {
      const l = decode<{
        filter_chains?: {
          filters?: { typed_config?: AnyMsg }[];
          transport_socket?: { typed_config?: AnyMsg };
        }[];
      }>('envoy.config.listener.v3.Listener', any.value);
      for (const fc of l.filter_chains ?? []) {
        for (const f of fc.filters ?? []) {
          if (!f.typed_config?.type_url?.endsWith('.HttpConnectionManager')) continue;
          const hcm = decode<{ rds?: { route_config_name?: string } }>(
            'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
            f.typed_config.value,
          );
          if (hcm.rds?.route_config_name) rds.add(hcm.rds.route_config_name);
        }
        const ts = fc.transport_socket?.typed_config;
        if (ts?.type_url?.endsWith('.DownstreamTlsContext')) {
          const tls = decode<{
            common_tls_context?: { tls_certificate_sds_secret_configs?: { name?: string }[] };
          }>('envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext', ts.value);
          for (const s of tls.common_tls_context?.tls_certificate_sds_secret_configs ?? []) {
            if (s.name) sds.add(s.name);
          }
        }
      }
    }
    out[TypeUrl.RouteConfiguration] = [...rds].sort();
    out[TypeUrl.Secret] = [...sds].sort();
  }
  learnedCache.set(key, out);
  return out;
}

const Ads = adsClientClass();
const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  // One connection per simulated gateway, as separate Envoys would have.
  'grpc.use_local_subchannel_pool': 1,
  'grpc.max_receive_message_length': 256 << 20,
};

abstract class SimClient {
  stats: ClientStats;
  protected readonly stub: AdsStub;

  constructor(
    port: number,
    readonly id: string,
    readonly group: string,
  ) {
    this.stub = new Ads(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
    this.stats = { id, group, responses: 0, resources: 0, bytes: 0, lastAckAt: 0 };
  }

  mark(): void {
    this.stats = {
      id: this.id,
      group: this.group,
      responses: 0,
      resources: 0,
      bytes: 0,
      lastAckAt: 0,
    };
  }

  protected received(size: number, resources: number): void {
    this.stats.responses++;
    this.stats.resources += resources;
    this.stats.bytes += size;
  }

  protected failed(e: Error & { code?: number }): void {
    if (e.code === grpc.status.CANCELLED) return; // closed by `stop`
    send({ ev: 'error', message: `${this.id}: ${e.message}` });
  }

  abstract start(): void;
  abstract close(): void;
}

class SotwSim extends SimClient {
  private call?: Duplex<DiscoveryRequest, DiscoveryResponse__Output>;
  private first = true;
  /** Names subscribed per type (absent: wildcard). */
  private readonly names = new Map<string, string[]>();
  /** Last version and nonce received per type. */
  private readonly last = new Map<string, { version: string; nonce: string }>();

  start(): void {
    const call = this.stub.StreamAggregatedResources();
    this.call = call;
    call.on('data', (r: Sized<DiscoveryResponse__Output>) => this.onResponse(r));
    call.on('error', (e: Error) => this.failed(e));
    this.request(TypeUrl.Cluster);
    this.request(TypeUrl.Listener);
  }

  private request(type: string): void {
    const last = this.last.get(type);
    this.write({
      type_url: type,
      version_info: last?.version ?? '',
      response_nonce: last?.nonce ?? '',
      resource_names: this.names.get(type) ?? [],
    });
  }

  private write(req: DiscoveryRequest): void {
    this.call!.write(this.first ? { ...req, node: { id: this.id, cluster: this.group } } : req);
    this.first = false;
  }

  private onResponse({ size, msg: r }: Sized<DiscoveryResponse__Output>): void {
    this.received(size, r.resources?.length ?? 0);
    // Subscriptions to what the new clusters and listeners name go out
    // before the ACK, as Envoy does while the clusters and listeners warm.
    const learned = learn(r);
    const resubscribe: string[] = [];
    for (const [type, names] of Object.entries(learned)) {
      const before = this.names.get(type);
      if (before && before.join('\0') === names.join('\0')) continue;
      this.names.set(type, names);
      resubscribe.push(type);
    }
    for (const type of resubscribe) this.request(type);
    const type = r.type_url ?? '';
    const version = r.version_info ?? '';
    const nonce = r.nonce ?? '';
    this.last.set(type, { version, nonce });
    this.write({
      type_url: type,
      version_info: version,
      response_nonce: nonce,
      resource_names: this.names.get(type) ?? [],
    });
    this.stats.lastAckAt = now();
  }

  close(): void {
    this.call?.cancel();
    this.stub.close();
  }
}

const DELTA_TYPES = [
  TypeUrl.Cluster,
  TypeUrl.ClusterLoadAssignment,
  TypeUrl.Secret,
  TypeUrl.Listener,
  TypeUrl.RouteConfiguration,
];

class DeltaSim extends SimClient {
  private call?: Duplex<DeltaDiscoveryRequest, DeltaDiscoveryResponse__Output>;
  private first = true;

  start(): void {
    const call = this.stub.DeltaAggregatedResources();
    this.call = call;
    call.on('data', (r: Sized<DeltaDiscoveryResponse__Output>) => this.onResponse(r));
    call.on('error', (e: Error) => this.failed(e));
    for (const type of DELTA_TYPES) this.write({ type_url: type, resource_names_subscribe: ['*'] });
  }

  private write(req: DeltaDiscoveryRequest): void {
    this.call!.write(this.first ? { ...req, node: { id: this.id, cluster: this.group } } : req);
    this.first = false;
  }

  private onResponse({ size, msg: r }: Sized<DeltaDiscoveryResponse__Output>): void {
    this.received(size, (r.resources?.length ?? 0) + (r.removed_resources?.length ?? 0));
    this.write({ type_url: r.type_url, response_nonce: r.nonce });
    this.stats.lastAckAt = now();
  }

  close(): void {
    this.call?.cancel();
    this.stub.close();
  }
}

function send(e: ClientEvent): void {
  process.send!(e);
}

let clients: SimClient[] = [];
let cpuMark = process.cpuUsage();

process.on('message', (m: ClientCommand) => {
  try {
    switch (m.cmd) {
      case 'start': {
        for (let i = 0; i < m.clients; i++) {
          const group = m.groups[i % m.groups.length]!;
          const id = `${m.idPrefix}-${i}`;
          clients.push(
            m.mode === 'sotw' ? new SotwSim(m.port, id, group) : new DeltaSim(m.port, id, group),
          );
        }
        for (const c of clients) c.start();
        send({ ev: 'started' });
        break;
      }
      case 'mark':
        for (const c of clients) c.mark();
        cpuMark = process.cpuUsage();
        send({ ev: 'marked' });
        break;
      case 'report': {
        const cpu = process.cpuUsage(cpuMark);
        send({
          ev: 'report',
          stats: clients.map((c) => c.stats),
          cpuMs: (cpu.user + cpu.system) / 1000,
        });
        break;
      }
      case 'stop':
        for (const c of clients) c.close();
        clients = [];
        process.disconnect();
        break;
    }
  } catch (e) {
    send({ ev: 'error', message: String((e as Error).stack ?? e) });
  }
});

envoyType('envoy.config.cluster.v3.Cluster'); // load the protos before the clock starts
send({ ev: 'ready' });
