// The gatefleet gateway: an xDS-driven HTTP proxy that keeps no configuration
// of its own. It receives everything from the controller, applies each update
// as a transaction (ACK) or refuses it whole (NACK, previous configuration
// kept), and serves with whatever it last applied while the controller is
// away. Ready once the first complete configuration is applied.
import type { Server } from 'node:http';
import type { ChannelCredentials } from '@grpc/grpc-js';
import { pino, type Logger } from 'pino';
import { toProto3Json } from '../xds/proto/json.js';
import { PUSH_ORDER, typeOfUrl, TypeUrl } from '../xds/proto/root.js';
import { startAdmin } from './admin/server.js';
import { ConfigError } from './config/decode.js';
import { ConfigStore, type ResourceUpdate } from './config/store.js';
import { GatewayMetrics } from './metrics.js';
import { handleRequest } from './runtime/handler.js';
import { DEFAULT_LIMITS, ListenerSet, type ServerLimits } from './runtime/servers.js';
import { Upstreams } from './runtime/upstream.js';
import { AdsClient, type ApplyResult } from './xds/ads-client.js';

export interface GatewayOptions {
  xdsAddress: string;
  nodeId: string;
  /** The node group: the fleet, or `<fleet>/<shard>`. */
  nodeGroup: string;
  mode?: 'delta' | 'sotw';
  xdsCredentials?: ChannelCredentials;
  adminAddress?: string;
  adminPort?: number;
  limits?: Partial<ServerLimits>;
  logger?: Logger;
}

export class Gateway {
  readonly store = new ConfigStore();
  readonly metrics = new GatewayMetrics();
  readonly upstreams = new Upstreams();
  readonly listeners: ListenerSet;
  readonly log: Logger;
  private readonly client: AdsClient;
  private admin?: Server;
  private ready = false;
  private draining = false;
  private readonly received = new Set<string>();
  private lastRejection?: { typeUrl: string; message: string; at: string };

  constructor(private readonly opts: GatewayOptions) {
    this.log = opts.logger ?? pino({ name: 'gatefleet-gateway' });
    const ctx = { config: () => this.store.current, upstreams: this.upstreams };
    this.listeners = new ListenerSet(
      ctx.config,
      (name, req, res) => {
        res.once('finish', () =>
          this.metrics.requests.inc({ code_class: `${Math.floor(res.statusCode / 100)}xx` }),
        );
        handleRequest(ctx, name, req, res);
      },
      { ...DEFAULT_LIMITS, ...opts.limits },
    );
    this.client = new AdsClient({
      address: opts.xdsAddress,
      nodeId: opts.nodeId,
      nodeGroup: opts.nodeGroup,
      mode: opts.mode ?? 'delta',
      ...(opts.xdsCredentials ? { credentials: opts.xdsCredentials } : {}),
      apply: (t, u, r, replace) => this.apply(t, u, r, replace),
      heldVersions: (t) => this.store.versions(t),
      log: (level, msg, fields) => this.log[level](fields ?? {}, msg),
      onConnected: (up) => this.metrics.connected.set(up ? 1 : 0),
    });
  }

  async start(): Promise<void> {
    if (this.opts.adminPort !== undefined) {
      this.admin = await startAdmin(this.opts.adminAddress ?? '127.0.0.1', this.opts.adminPort, {
        ready: () => this.ready,
        draining: () => this.draining,
        configDump: () => this.configDump(),
        metrics: this.metrics,
      });
    }
    this.client.start();
  }

  adminPort(): number | undefined {
    return (this.admin?.address() as { port: number } | null)?.port;
  }

  isReady(): boolean {
    return this.ready;
  }

  private async apply(
    typeUrl: string,
    upserts: ResourceUpdate[],
    removals: string[],
    replace: boolean,
  ): Promise<ApplyResult> {
    try {
      const next = this.store.prepare(typeUrl, upserts, removals, replace);
      await this.listeners.reconcile(next);
      next.commit();
      this.received.add(typeUrl);
      this.metrics.updates.inc({ type_url: typeUrl, result: 'applied' });
      this.metrics.listeners.set(next.listeners.size);
      if (
        !this.ready &&
        next.complete &&
        this.received.has(TypeUrl.Listener) &&
        this.received.has(TypeUrl.Cluster)
      ) {
        this.ready = true;
        this.log.info({ generation: next.generation }, 'first complete configuration applied');
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

  /** What is applied, with versions, as proto3 JSON. */
  configDump(): unknown {
    const cfg = this.store.current;
    const resources: Record<string, unknown> = {};
    for (const t of PUSH_ORDER) {
      const type = typeOfUrl(t);
      resources[t.split('.').pop()!] = this.store.raw(t).map((r) => ({
        name: r.name,
        version: r.version,
        resource: redact(toProto3Json(type, type.fromObject(r.resource as object))),
      }));
    }
    return {
      node: { id: this.opts.nodeId, nodeGroup: this.opts.nodeGroup },
      ready: this.ready,
      generation: cfg.generation,
      warming: Object.fromEntries(cfg.warming),
      ...(this.lastRejection ? { lastRejection: this.lastRejection } : {}),
      resources,
    };
  }

  /** SIGTERM: stop accepting, let requests in flight finish, stop. */
  async drain(graceMs = 20_000): Promise<void> {
    this.draining = true;
    this.client.stop();
    await this.listeners.drain(graceMs);
    await this.upstreams.close();
    await new Promise<void>((r) => (this.admin ? this.admin.close(() => r()) : r()));
  }
}

function redact(json: unknown): unknown {
  const s = json as { tlsCertificate?: { privateKey?: unknown } };
  if (s?.tlsCertificate?.privateKey)
    return {
      ...s,
      tlsCertificate: { ...s.tlsCertificate, privateKey: { inlineString: '<redacted>' } },
    };
  return json;
}
