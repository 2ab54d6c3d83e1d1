// The gateway's xDS client: one ADS stream (incremental by default, state of
// the world on request) subscribing to every resource of its node group.
// Responses are applied one at a time; what applies is ACKed, what does not
// is NACKed with the reason and the previous configuration stays. When the
// stream breaks it reconnects with jittered exponential back-off and, in
// delta mode, tells the server which versions it still holds, so only what
// changed meanwhile is sent; the configuration keeps serving throughout.
import { createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { adsProto } from '../../xds/server/ads-server.js';
import { PUSH_ORDER } from '../../xds/proto/root.js';
import type { DeltaDiscoveryRequest } from '../../xds/generated/envoy/service/discovery/v3/DeltaDiscoveryRequest.js';
import type { DeltaDiscoveryResponse__Output } from '../../xds/generated/envoy/service/discovery/v3/DeltaDiscoveryResponse.js';
import type { DiscoveryRequest } from '../../xds/generated/envoy/service/discovery/v3/DiscoveryRequest.js';
import type { DiscoveryResponse__Output } from '../../xds/generated/envoy/service/discovery/v3/DiscoveryResponse.js';
import type { ResourceUpdate } from '../config/store.js';

export interface ApplyResult {
  error?: string;
}

export interface AdsClientOptions {
  address: string;
  nodeId: string;
  nodeGroup: string;
  mode: 'delta' | 'sotw';
  credentials?: grpc.ChannelCredentials;
  /** Applies one response; resolves with an error message to NACK it. */
  apply: (
    typeUrl: string,
    upserts: ResourceUpdate[],
    removals: string[],
    replace: boolean,
  ) => Promise<ApplyResult>;
  /** Versions held per type, sent as initial_resource_versions on reconnect (delta). */
  heldVersions: (typeUrl: string) => Map<string, string>;
  log: (level: 'info' | 'warn' | 'debug', msg: string, fields?: Record<string, unknown>) => void;
  onConnected?: (connected: boolean) => void;
  backoff?: { baseMs: number; maxMs: number };
}

type Stream =
  | grpc.ClientDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse__Output>
  | grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse__Output>;

export class AdsClient {
  private client?: grpc.Client & Record<string, unknown>;
  private stream?: Stream;
  private stopped = false;
  private attempt = 0;
  private timer?: NodeJS.Timeout;
  private queue: Promise<void> = Promise.resolve();
  /** SotW: last accepted version per type (sent back with a NACK). */
  private accepted = new Map<string, string>();

  constructor(private readonly opts: AdsClientOptions) {}

  start(): void {
    const Ads = adsProto().envoy.service.discovery.v3.AggregatedDiscoveryService;
    this.client = new Ads(
      this.opts.address,
      this.opts.credentials ?? grpc.credentials.createInsecure(),
      {
        'grpc.keepalive_time_ms': 30_000,
        'grpc.keepalive_timeout_ms': 10_000,
        'grpc.max_receive_message_length': 256 << 20,
      },
    ) as never;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.stream?.cancel();
    this.client?.close();
  }

  private node() {
    return {
      id: this.opts.nodeId,
      cluster: this.opts.nodeGroup,
      user_agent_name: 'gatefleet-gateway',
    };
  }

  private connect(): void {
    if (this.stopped) return;
    const client = this.client as unknown as Record<string, () => Stream>;
    const delta = this.opts.mode === 'delta';
    const stream = delta ? client.DeltaAggregatedResources!() : client.StreamAggregatedResources!();
    this.stream = stream;
    let first = true;
    stream.on('data', (r: DeltaDiscoveryResponse__Output | DiscoveryResponse__Output) => {
      if (first) {
        first = false;
        this.attempt = 0;
        this.opts.onConnected?.(true);
      }
      this.queue = this.queue.then(() =>
        delta
          ? this.onDelta(stream, r as DeltaDiscoveryResponse__Output)
          : this.onSotw(stream, r as DiscoveryResponse__Output),
      );
    });
    const broken = (why: string) => {
      if (this.stream !== stream) return;
      this.stream = undefined;
      this.opts.onConnected?.(false);
      if (this.stopped) return;
      const { baseMs, maxMs } = this.opts.backoff ?? { baseMs: 250, maxMs: 5_000 };
      const delay = Math.random() * Math.min(maxMs, baseMs * 2 ** this.attempt++);
      this.opts.log('warn', 'xDS stream broken; reconnecting', { why, delayMs: Math.round(delay) });
      this.timer = setTimeout(() => this.connect(), delay);
    };
    stream.on('error', (e: Error) => broken(e.message));
    stream.on('end', () => broken('stream ended'));
    // Subscribe to everything of every type, in dependency order.
    for (const typeUrl of PUSH_ORDER) {
      if (delta) {
        (stream as grpc.ClientDuplexStream<DeltaDiscoveryRequest, unknown>).write({
          node: this.node(),
          type_url: typeUrl,
          resource_names_subscribe: ['*'],
          initial_resource_versions: Object.fromEntries(this.opts.heldVersions(typeUrl)),
        });
      } else {
        (stream as grpc.ClientDuplexStream<DiscoveryRequest, unknown>).write({
          node: this.node(),
          type_url: typeUrl,
          resource_names: ['*'],
          version_info: this.accepted.get(typeUrl) ?? '',
        });
      }
    }
  }

  private async onDelta(stream: Stream, r: DeltaDiscoveryResponse__Output): Promise<void> {
    const typeUrl = r.type_url ?? '';
    const upserts = (r.resources ?? []).map((x) => ({
      name: x.name ?? '',
      version: x.version ?? '',
      bytes: x.resource?.value ?? new Uint8Array(),
    }));
    const result = await this.opts.apply(typeUrl, upserts, r.removed_resources ?? [], false);
    const req: DeltaDiscoveryRequest = { type_url: typeUrl, response_nonce: r.nonce ?? '' };
    if (result.error)
      req.error_detail = { code: grpc.status.INVALID_ARGUMENT, message: result.error };
    if (this.stream === stream)
      (stream as grpc.ClientDuplexStream<DeltaDiscoveryRequest, unknown>).write(req);
  }

  private async onSotw(stream: Stream, r: DiscoveryResponse__Output): Promise<void> {
    const typeUrl = r.type_url ?? '';
    const upserts: ResourceUpdate[] = [];
    for (const any of r.resources ?? []) {
      // State of the world carries no names or versions per resource: the
      // store reads the name from the resource; the version is its content hash.
      const bytes = any.value ?? new Uint8Array();
      upserts.push({
        name: '',
        version: createHash('sha256').update(bytes).digest('hex').slice(0, 16),
        bytes,
      });
    }
    const result = await this.opts.apply(typeUrl, upserts, [], true);
    const req: DiscoveryRequest = {
      type_url: typeUrl,
      response_nonce: r.nonce ?? '',
      resource_names: ['*'],
    };
    if (result.error) {
      req.version_info = this.accepted.get(typeUrl) ?? '';
      req.error_detail = { code: grpc.status.INVALID_ARGUMENT, message: result.error };
    } else {
      req.version_info = r.version_info ?? '';
      this.accepted.set(typeUrl, req.version_info);
    }
    if (this.stream === stream)
      (stream as grpc.ClientDuplexStream<DiscoveryRequest, unknown>).write(req);
  }
}
