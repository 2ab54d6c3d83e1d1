// The gateway's xDS client: one ADS stream (incremental by default, state of
// the world on request) subscribing to every resource of its node group.
// Responses are applied one at a time, in the order received; what applies is
// ACKed, what does not is NACKed with the reason and the previous
// configuration stays. When the stream breaks it reconnects with jittered
// exponential back-off and, in delta mode, tells the server which versions it
// still holds, so only what changed meanwhile is sent; the configuration
// keeps serving throughout. Credentials made by
// xds/tls/client-credentials.ts re-read their files before every
// reconnection; when they changed, the channel is replaced so the next
// connection presents the new certificate.
import { createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { PUSH_ORDER } from '../../xds/proto/root.js';
import type { DeltaDiscoveryRequest } from '../../xds/generated/envoy/service/discovery/v3/DeltaDiscoveryRequest.js';
import type { DeltaDiscoveryResponse__Output } from '../../xds/generated/envoy/service/discovery/v3/DeltaDiscoveryResponse.js';
import type { DiscoveryRequest } from '../../xds/generated/envoy/service/discovery/v3/DiscoveryRequest.js';
import type { DiscoveryResponse__Output } from '../../xds/generated/envoy/service/discovery/v3/DiscoveryResponse.js';
import { reloadChannelCredentials } from '../../xds/tls/client-credentials.js';
import type { ResourceUpdate } from '../config/store.js';
import {
  adsClientConstructor,
  type AdsStub,
  type DeltaStream,
  type SotwStream,
} from './ads-service.js';

export interface ApplyResult {
  error?: string;
}

export interface Backoff {
  /** First retry waits up to this long (full jitter: uniformly in [0, bound]). */
  baseMs: number;
  /** The bound doubles per failed attempt up to this. */
  maxMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { baseMs: 250, maxMs: 5_000 };

export interface AdsClientOptions {
  address: string;
  nodeId: string;
  nodeGroup: string;
  mode: 'delta' | 'sotw';
  credentials?: grpc.ChannelCredentials;
  /** Extra channel options (e.g. grpc.ssl_target_name_override). */
  channelOptions?: grpc.ChannelOptions;
  /**
   * Applies one response; resolves with an error message to NACK it. Called
   * one response at a time: the next waits until this one settles.
   */
  apply: (
    typeUrl: string,
    upserts: ResourceUpdate[],
    removals: string[],
    replace: boolean,
  ) => Promise<ApplyResult>;
  /** Versions held per type, sent as initial_resource_versions on reconnect (delta). */
  heldVersions: (typeUrl: string) => Map<string, string>;
  log: (level: 'info' | 'warn' | 'debug', msg: string, fields?: Record<string, unknown>) => void;
  /** True when a stream delivers its first response, false when it breaks. */
  onConnected?: (connected: boolean) => void;
  /** Each reconnection attempt scheduled, with its delay. */
  onRetry?: (delayMs: number) => void;
  backoff?: Backoff;
}

type Stream = DeltaStream | SotwStream;

/** Full-jitter exponential back-off: uniformly in [0, min(max, base·2^attempt)]. */
export function backoffDelay(b: Backoff, attempt: number, random = Math.random): number {
  return random() * Math.min(b.maxMs, b.baseMs * 2 ** Math.min(attempt, 30));
}

export class AdsClient {
  private client?: AdsStub;
  private stream?: Stream;
  private stopped = false;
  private attempt = 0;
  private timer?: NodeJS.Timeout;
  /** Serializes applies (and a new stream's first requests) in arrival order. */
  private queue: Promise<void> = Promise.resolve();
  /** SotW: last accepted version per type (sent back with a NACK and on reconnect). */
  private readonly accepted = new Map<string, string>();
  private readonly backoff: Backoff;
  /** Generation of the TLS files the current channel was opened with. */
  private tlsGeneration?: number;

  constructor(private readonly opts: AdsClientOptions) {
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF;
  }

  start(): void {
    this.client = this.newClient();
    this.connect();
  }

  private newClient(): AdsStub {
    const Ads = adsClientConstructor();
    return new Ads(this.opts.address, this.opts.credentials ?? grpc.credentials.createInsecure(), {
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_timeout_ms': 10_000,
      'grpc.max_receive_message_length': 256 << 20,
      // The channel's own connection back-off must not exceed ours, or a
      // reconnect waits for grpc's default (up to 120 s) whatever we do.
      'grpc.initial_reconnect_backoff_ms': this.backoff.baseMs,
      'grpc.max_reconnect_backoff_ms': this.backoff.maxMs,
      // A replaced channel must not hand its successor a pooled connection
      // made with the old certificate.
      'grpc.use_local_subchannel_pool': 1,
      ...this.opts.channelOptions,
    });
  }

  /**
   * Before every connection: re-reads the TLS files; when they changed since
   * the channel was opened, replaces it (its connection, if still open,
   * presents the old certificate). Unusable files keep the previous ones.
   */
  private refreshCredentials(): void {
    const r = reloadChannelCredentials(this.opts.credentials);
    if (!r) return;
    if (r.error)
      this.opts.log('warn', 'xDS TLS files unusable; keeping the previous credentials', {
        error: r.error,
      });
    if (this.tlsGeneration === undefined || this.tlsGeneration === r.generation) {
      this.tlsGeneration = r.generation;
      return;
    }
    this.tlsGeneration = r.generation;
    this.opts.log('info', 'xDS TLS files changed; reconnecting with them', {});
    this.client?.close();
    this.client = this.newClient();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    const s = this.stream;
    this.stream = undefined;
    s?.cancel();
    this.client?.close();
  }

  private node() {
    return {
      id: this.opts.nodeId,
      cluster: this.opts.nodeGroup,
      user_agent_name: 'gatefleet-gateway',
    };
  }

  private enqueue(task: () => Promise<void> | void): void {
    this.queue = this.queue.then(task).catch((e: unknown) => {
      // apply() reports its own failures; anything here is a bug, but it must
      // not stop every later response from being applied.
      this.opts.log('warn', 'xDS response handling failed', { error: String(e) });
    });
  }

  private connect(): void {
    if (this.stopped || !this.client) return;
    this.refreshCredentials();
    const delta = this.opts.mode === 'delta';
    const stream: Stream = delta
      ? this.client.DeltaAggregatedResources()
      : this.client.StreamAggregatedResources();
    this.stream = stream;
    const openedAt = Date.now();
    let first = true;
    stream.on('data', (r: DeltaDiscoveryResponse__Output | DiscoveryResponse__Output) => {
      if (first) {
        first = false;
        this.attempt = 0;
        this.opts.onConnected?.(true);
        this.opts.log('info', 'xDS stream up', { mode: this.opts.mode });
      }
      this.enqueue(() =>
        delta
          ? this.onDelta(stream as DeltaStream, r as DeltaDiscoveryResponse__Output)
          : this.onSotw(stream as SotwStream, r as DiscoveryResponse__Output),
      );
    });
    const broken = (why: string) => {
      if (this.stream !== stream) return;
      this.stream = undefined;
      stream.cancel();
      this.opts.onConnected?.(false);
      if (this.stopped) return;
      // A stream that lived a while (e.g. held by a server with nothing to
      // send yet) was a success: start the back-off over.
      if (Date.now() - openedAt > this.backoff.maxMs) this.attempt = 0;
      const delay = backoffDelay(this.backoff, this.attempt++);
      this.opts.onRetry?.(delay);
      this.opts.log('warn', 'xDS stream broken; reconnecting', { why, delayMs: Math.round(delay) });
      this.timer = setTimeout(() => this.connect(), delay);
    };
    stream.on('error', (e: Error) => broken(e.message));
    stream.on('end', () => broken('stream ended'));
    // The first requests go after every response of the previous stream has
    // been applied, so initial_resource_versions is exactly what is held.
    this.enqueue(() => {
      if (this.stream !== stream) return;
      for (const typeUrl of PUSH_ORDER) {
        if (delta) {
          (stream as DeltaStream).write({
            node: this.node(),
            type_url: typeUrl,
            resource_names_subscribe: ['*'],
            initial_resource_versions: Object.fromEntries(this.opts.heldVersions(typeUrl)),
          });
        } else {
          (stream as SotwStream).write({
            node: this.node(),
            type_url: typeUrl,
            resource_names: ['*'],
            version_info: this.accepted.get(typeUrl) ?? '',
          });
        }
      }
    });
  }

  private async onDelta(stream: DeltaStream, r: DeltaDiscoveryResponse__Output): Promise<void> {
    // A response of a stream that broke meanwhile is dropped unapplied: the
    // next stream starts from what is held and the server sends the rest.
    if (this.stream !== stream) return;
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
    if (this.stream === stream) stream.write(req);
  }

  private async onSotw(stream: SotwStream, r: DiscoveryResponse__Output): Promise<void> {
    if (this.stream !== stream) return;
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
    if (this.stream === stream) stream.write(req);
  }
}
