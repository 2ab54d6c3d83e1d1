// The gatefleet xDS server: envoy.service.discovery.v3.AggregatedDiscoveryService
// (state of the world and incremental) on @grpc/grpc-js, serving snapshots
// from a SnapshotCache. Streams opened before the first snapshot is
// published are held, never answered with an empty configuration.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType } from '../generated/ads.js';
import type { DeltaDiscoveryRequest__Output } from '../generated/envoy/service/discovery/v3/DeltaDiscoveryRequest.js';
import type { DeltaDiscoveryResponse } from '../generated/envoy/service/discovery/v3/DeltaDiscoveryResponse.js';
import type { DiscoveryRequest__Output } from '../generated/envoy/service/discovery/v3/DiscoveryRequest.js';
import type { DiscoveryResponse } from '../generated/envoy/service/discovery/v3/DiscoveryResponse.js';
import type { SnapshotCache } from '../cache.js';
import { protoIncludeDirs } from '../proto/root.js';
import { identityOfPeer, NodeIdentityGuard, type ClaimedNode } from '../tls/identity.js';
import { DeltaStream } from './delta-stream.js';
import { XdsMetrics } from './metrics.js';
import { NodeRegistry } from './nodes.js';
import { SotwStream } from './sotw-stream.js';
import type { StreamContext } from './stream.js';

export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: false,
  oneofs: true,
};

let adsPackage: ProtoGrpcType | undefined;

/** The ADS service definition, loaded from Envoy's protos (also used by test clients). */
export function adsProto(): ProtoGrpcType {
  if (!adsPackage) {
    const def = protoLoader.loadSync('envoy/service/discovery/v3/ads.proto', {
      ...LOADER_OPTIONS,
      includeDirs: protoIncludeDirs(),
    });
    adsPackage = grpc.loadPackageDefinition(def) as unknown as ProtoGrpcType;
  }
  return adsPackage;
}

export interface XdsServerOptions {
  cache: SnapshotCache;
  metrics?: XdsMetrics;
  nodes?: NodeRegistry;
  log?: StreamContext['log'];
  /** Streams are closed after this long so gateways spread over controller replicas. */
  maxConnectionAgeMs?: number;
  credentials?: grpc.ServerCredentials;
  /**
   * Kubernetes mode: every stream's node.cluster must be the node group its
   * client certificate was issued for (xds/tls/identity.ts); a stream that
   * claims another, or changes it, is closed with PERMISSION_DENIED before
   * anything is sent. Needs credentials that require client certificates
   * (xds/tls/server-credentials.ts): without one every stream is refused.
   * Off in standalone mode.
   */
  verifyNodeIdentity?: boolean;
}

export class XdsServer {
  readonly nodes: NodeRegistry;
  readonly metrics: XdsMetrics;
  private readonly server: grpc.Server;
  private readonly streams = new Set<{ close(): void }>();
  private readonly ctx: StreamContext;

  constructor(private readonly opts: XdsServerOptions) {
    this.nodes = opts.nodes ?? new NodeRegistry();
    this.metrics = opts.metrics ?? new XdsMetrics();
    this.ctx = {
      cache: opts.cache,
      nodes: this.nodes,
      metrics: this.metrics,
      log: opts.log ?? (() => {}),
    };
    const options: grpc.ServerOptions = {
      // Envoy may open many streams; messages carry whole route tables.
      'grpc.max_concurrent_streams': 1 << 20,
      'grpc.max_receive_message_length': 16 << 20,
      'grpc.max_send_message_length': 256 << 20,
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_timeout_ms': 10_000,
      'grpc.keepalive_permit_without_calls': 1,
    };
    if (opts.maxConnectionAgeMs) {
      options['grpc.max_connection_age_ms'] = opts.maxConnectionAgeMs;
      options['grpc.max_connection_age_grace_ms'] = 10_000;
    }
    this.server = new grpc.Server(options);
    const svc = adsProto().envoy.service.discovery.v3.AggregatedDiscoveryService.service;
    this.server.addService(svc, {
      StreamAggregatedResources: (
        call: grpc.ServerDuplexStream<DiscoveryRequest__Output, DiscoveryResponse>,
      ) => this.sotw(call),
      DeltaAggregatedResources: (
        call: grpc.ServerDuplexStream<DeltaDiscoveryRequest__Output, DeltaDiscoveryResponse>,
      ) => this.delta(call),
    });
  }

  /** Binds and starts; returns the bound port (useful with port 0). */
  listen(address: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.bindAsync(
        address,
        this.opts.credentials ?? grpc.ServerCredentials.createInsecure(),
        (err, port) => (err ? reject(err) : resolve(port)),
      );
    });
  }

  /** Stops accepting, ends every stream (gateways reconnect elsewhere) and waits briefly for calls to finish. */
  async close(): Promise<void> {
    for (const s of this.streams) s.close();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, 2_000);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private sotw(call: grpc.ServerDuplexStream<DiscoveryRequest__Output, DiscoveryResponse>): void {
    const stream = new SotwStream(
      this.ctx,
      (r) => call.write(r),
      (message) => call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: message }),
    );
    this.wire(
      call,
      stream,
      (req) => stream.onRequest(req),
      (req) => req.node,
    );
  }

  private delta(
    call: grpc.ServerDuplexStream<DeltaDiscoveryRequest__Output, DeltaDiscoveryResponse>,
  ): void {
    const stream = new DeltaStream(
      this.ctx,
      (r) => call.write(r),
      (message) => call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: message }),
    );
    this.wire(
      call,
      stream,
      (req) => stream.onRequest(req),
      (req) => req.node,
    );
  }

  private wire<Req, Res>(
    call: grpc.ServerDuplexStream<Req, Res>,
    stream: SotwStream | DeltaStream,
    onRequest: (req: Req) => void,
    nodeOf: (req: Req) => ClaimedNode | null | undefined,
  ): void {
    const guard = this.opts.verifyNodeIdentity
      ? new NodeIdentityGuard(identityOfPeer(call.getAuthContext().sslPeerCertificate))
      : undefined;
    let refused = false;
    let verified = false;
    const handle = {
      close: () => {
        stream.close();
        if (!call.destroyed) call.end();
      },
    };
    this.streams.add(handle);
    const done = () => {
      this.streams.delete(handle);
      stream.close();
    };
    call.on('data', (req: Req) => {
      if (refused) return;
      const refusal = guard?.check(nodeOf(req));
      if (refusal) {
        refused = true;
        const certified = 'nodeGroup' in guard!.identity ? guard!.identity.nodeGroup : '';
        this.metrics.identityRejections.inc({
          reason: refusal.reason,
          certified_node_group: certified,
        });
        this.ctx.log('warn', 'xDS stream refused: node identity', {
          reason: refusal.reason,
          claimed: refusal.claimed,
          certified: certified || undefined,
          node: nodeOf(req)?.id ?? undefined,
          message: refusal.message,
        });
        call.emit('error', { code: grpc.status.PERMISSION_DENIED, details: refusal.message });
        return;
      }
      if (guard && !verified && guard.boundNodeGroup !== undefined) {
        verified = true;
        const id = guard.identity as { serial: string; fingerprint256: string };
        this.ctx.log('info', 'xDS client certificate verified', {
          node: nodeOf(req)?.id ?? undefined,
          nodeGroup: guard.boundNodeGroup,
          serial: id.serial,
          fingerprint256: id.fingerprint256,
        });
      }
      try {
        onRequest(req);
      } catch (e) {
        this.ctx.log('warn', 'xDS request failed', { error: String(e) });
        call.emit('error', { code: grpc.status.INTERNAL, details: 'internal error' });
      }
    });
    call.on('end', () => {
      done();
      call.end();
    });
    call.on('error', done);
    call.on('close', done);
    call.on('cancelled', done);
  }
}
