// The gatefleet gateway: an xDS-driven HTTP proxy that keeps no configuration
// of its own. It receives everything from the controller, applies each update
// as a transaction (ACK) or refuses it whole (NACK, previous configuration
// kept), and serves with whatever it last applied while the controller is
// away. Ready once the first complete configuration is applied; not ready
// again while draining.
import type { Server } from 'node:http';
import type { ChannelCredentials, ChannelOptions } from '@grpc/grpc-js';
import { pino, type Logger } from 'pino';
import { toProto3Json } from '../xds/proto/json.js';
import { PUSH_ORDER, typeOfUrl } from '../xds/proto/root.js';
import { startAdmin } from './admin/server.js';
import { ConfigError } from './config/decode.js';
import { MemoryReclaimer } from './memory.js';
import { ConfigStore, type ResourceUpdate } from './config/store.js';
import { InFlight } from './in-flight.js';
import { GatewayMetrics } from './metrics.js';
import { handleRequest } from './runtime/handler.js';
import { DEFAULT_LIMITS, ListenerSet, type ServerLimits } from './runtime/servers.js';
import { Upstreams } from './runtime/upstream.js';
import { AdsClient, type ApplyResult, type Backoff } from './xds/ads-client.js';

export interface GatewayOptions {
  xdsAddress: string;
  nodeId: string;
  /** The node group: the fleet, or `<fleet>/<shard>`. */
  nodeGroup: string;
  mode?: 'delta' | 'sotw';
  xdsCredentials?: ChannelCredentials;
  xdsChannelOptions?: ChannelOptions;
  xdsBackoff?: Backoff;
  /** No admin listener when undefined (a worker: the primary serves it). */
  adminAddress?: string;
  adminPort?: number;
  limits?: Partial<ServerLimits>;
  logger?: Logger;
  /** Called when readiness or draining changes. */
  onStateChange?: () => void;
  /** Replaces the all-interfaces address (0.0.0.0, ::) of every listener. */
  bindAddress?: string;
  /**
   * Every listener on all interfaces (0.0.0.0, or :: when it names an IPv6
   * address), whatever addresses it names: in Kubernetes a Gateway's
   * addresses belong to its Service, which forwards to the pods.
   */
  listenAnyAddress?: boolean;
}

export class Gateway {
  readonly store = new ConfigStore();
  readonly memory = new MemoryReclaimer();
  readonly metrics: GatewayMetrics;
  readonly upstreams = new Upstreams();
  readonly listeners: ListenerSet;
  readonly log: Logger;
  private readonly client: AdsClient;
  private readonly inFlight = new InFlight();
  private admin?: Server;
  private ready = false;
  private draining = false;
  private connected = false;
  private lastRejection?: { typeUrl: string; message: string; at: string };

  constructor(private readonly opts: GatewayOptions) {
    this.log = opts.logger ?? pino({ name: 'gatefleet-gateway' });
    this.metrics = new GatewayMetrics({
      ready: () => this.ready,
      draining: () => this.draining,
      inFlight: () => this.inFlight.size,
      listeners: () => this.store.current.listeners.size,
    });
    const limits = { ...DEFAULT_LIMITS, ...opts.limits };
    const ctx = { config: () => this.store.current, upstreams: this.upstreams, limits };
    this.listeners = new ListenerSet(
      ctx.config,
      (name, req, res) => {
        this.inFlight.track(req, res);
        res.once('finish', () =>
          this.metrics.requests.inc({ code_class: `${Math.floor(res.statusCode / 100)}xx` }),
        );
        handleRequest(ctx, name, req, res);
      },
      limits,
    );
    this.client = new AdsClient({
      address: opts.xdsAddress,
      nodeId: opts.nodeId,
      nodeGroup: opts.nodeGroup,
      mode: opts.mode ?? 'delta',
      ...(opts.xdsCredentials ? { credentials: opts.xdsCredentials } : {}),
      ...(opts.xdsChannelOptions ? { channelOptions: opts.xdsChannelOptions } : {}),
      ...(opts.xdsBackoff ? { backoff: opts.xdsBackoff } : {}),
      apply: (t, u, r, replace) => this.apply(t, u, r, replace),
      heldVersions: (t) => this.store.versions(t),
      log: (level, msg, fields) => this.log[level](fields ?? {}, msg),
      onConnected: (up) => {
        this.connected = up;
        this.metrics.connected.set(up ? 1 : 0);
      },
      onRetry: () => this.metrics.reconnects.inc(),
    });
  }

  /** Opens the admin listener (if any), then connects to the controller. */
  async start(): Promise<void> {
    if (this.opts.adminPort !== undefined) {
      this.admin = await startAdmin(this.opts.adminAddress ?? '127.0.0.1', this.opts.adminPort, {
        ready: () => this.ready,
        draining: () => this.draining,
        configDump: () => this.configDump(),
        stats: async () => ({
          contentType: this.metrics.registry.contentType,
          body: await this.metrics.registry.metrics(),
        }),
      });
    }
    if (this.draining) return; // SIGTERM during start-up
    this.client.start();
  }

  adminPort(): number | undefined {
    return (this.admin?.address() as { port: number } | null)?.port;
  }

  isReady(): boolean {
    return this.ready && !this.draining;
  }

  /**
   * Applies one xDS response as a transaction. Listeners are opened before
   * the configuration is swapped in, so a port that cannot be bound refuses
   * the whole response and nothing changes.
   */
  private async apply(
    typeUrl: string,
    upserts: ResourceUpdate[],
    removals: string[],
    replace: boolean,
  ): Promise<ApplyResult> {
    try {
      const next = this.store.prepare(typeUrl, upserts, removals, replace);
      const bind = this.opts.bindAddress;
      if (this.opts.listenAnyAddress) {
        for (const [name, l] of next.listeners) {
          const any = l.addresses.some((a) => a.includes(':')) ? '::' : '0.0.0.0';
          if (l.addresses.length !== 1 || l.addresses[0] !== any)
            next.listeners.set(name, { ...l, addresses: [any] });
        }
      } else if (bind) {
        for (const [name, l] of next.listeners) {
          if (l.addresses.some((a) => a === '0.0.0.0' || a === '::')) {
            const addresses = [
              ...new Set(l.addresses.map((a) => (a === '0.0.0.0' || a === '::' ? bind : a))),
            ];
            next.listeners.set(name, { ...l, addresses });
          }
        }
      }
      await this.listeners.reconcile(next);
      next.commit();
      this.metrics.updates.inc({ type_url: typeUrl, result: 'applied' });
      this.memory.noteApplied(upserts.reduce((n, u) => n + u.bytes.byteLength, 0));
      // Complete = every listener has its route tables and certificates and
      // every cluster its endpoints. The server pushes CDS → EDS → SDS → LDS
      // → RDS, so a complete configuration with listeners has had its
      // clusters first. (Incremental xDS sends nothing for an empty type, so
      // "a CDS response arrived" cannot be required.)
      if (!this.ready && next.complete && next.listeners.size > 0) {
        this.ready = true;
        this.log.info({ generation: next.generation }, 'first complete configuration applied');
        this.opts.onStateChange?.();
      }
      return {};
    } catch (e) {
      const message =
        e instanceof ConfigError ? e.message : `internal error: ${(e as Error).message}`;
      this.metrics.updates.inc({ type_url: typeUrl, result: 'rejected' });
      this.lastRejection = { typeUrl, message, at: new Date().toISOString() };
      this.log.warn({ typeUrl, message }, 'configuration rejected');
      return { error: message };
    }
  }

  /** What is applied, with versions, as proto3 JSON; private keys redacted. */
  configDump(): unknown {
    const cfg = this.store.current;
    const resources: Record<string, unknown> = {};
    for (const t of PUSH_ORDER) {
      const type = typeOfUrl(t);
      resources[t.split('.').pop()!] = this.store.encoded(t).map((r) => ({
        name: r.name,
        version: r.version,
        resource: redact(toProto3Json(type, type.decode(r.bytes))),
      }));
    }
    return {
      node: { id: this.opts.nodeId, nodeGroup: this.opts.nodeGroup },
      ready: this.ready,
      draining: this.draining,
      xdsConnected: this.connected,
      generation: cfg.generation,
      complete: cfg.complete,
      warming: Object.fromEntries(cfg.warming),
      ...(this.lastRejection ? { lastRejection: this.lastRejection } : {}),
      resources,
    };
  }

  /**
   * SIGTERM: not ready, stop accepting, let requests in flight finish (at
   * most `graceMs`), stop. The admin listener stays up until the end so
   * /ready answers 503 while draining.
   */
  async drain(graceMs = 20_000): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    this.opts.onStateChange?.();
    this.client.stop();
    this.memory.stop();
    this.inFlight.drain();
    await this.listeners.drain(graceMs);
    await this.upstreams.close();
    await new Promise<void>((r) => (this.admin ? this.admin.close(() => r()) : r()));
  }

  isDraining(): boolean {
    return this.draining;
  }
}

/** Replaces every private key in a proto3 JSON tree (Secrets carry them inline). */
function redact(json: unknown): unknown {
  if (Array.isArray(json)) return json.map(redact);
  if (json === null || typeof json !== 'object') return json;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(json)) {
    out[k] = k === 'privateKey' ? { inlineString: '<redacted>' } : redact(v);
  }
  return out;
}
