// Kubernetes mode, assembled: the provider's cache feeds the controller loop;
// every replica translates and serves xDS (gateways spread over replicas);
// the replica holding the leader Lease also writes status and provisions
// fleets. Replicas share what their gateways applied through fleet reports,
// so the leader's Gateway Programmed conditions cover the whole fleet.
//
// Order of events at start-up: the xDS server listens at once (gateways may
// connect early and simply wait), but nothing is translated — so no snapshot
// exists — until every kind has been listed.
import type { KubeConfig } from '@kubernetes/client-node';
import type { ServerCredentials } from '@grpc/grpc-js';
import type { Server } from 'node:http';
import { startAdminApi } from '../admin/api.js';
import type { Diagnostic } from '../errors.js';
import type { Fleet, IR } from '../ir/types.js';
import { KubeProvider, type CacheChange } from '../providers/kube/kube-provider.js';
import type { KubeObject } from '../providers/kube/kinds.js';
import { FleetReports } from '../status/fleet-reports.js';
import type { StatusUpdate } from '../translator/index.js';
import { SnapshotCache } from '../../xds/cache.js';
import { XdsServer, type XdsServerOptions } from '../../xds/server/ads-server.js';
import { Controller } from './controller.js';
import { LeaderElector } from './leader-election.js';

export type RuntimeLog = (
  level: 'info' | 'warn' | 'error' | 'debug',
  msg: string,
  fields?: Record<string, unknown>,
) => void;

/** Writes statuses to the API server. Only the leader has one; a new one per term. */
export interface StatusSink {
  update(desired: readonly StatusUpdate[]): void;
  stop(): Promise<void>;
}

/** Runs fleets as Deployments. Only the leader has one; a new one per term. */
export interface FleetProvisioner {
  reconcile(
    ir: IR,
    gateways: (namespace: string, name: string) => KubeObject | undefined,
  ): Promise<unknown>;
  addressesOf(fleet: string): { type: 'IPAddress' | 'Hostname'; value: string }[];
  /** Why the fleet's requested addresses are not its own (yet); undefined when they are. */
  addressProblemOf?(fleet: Fleet): { reason: string; message: string } | undefined;
  /** A Service added, changed or deleted (`gone`), for Gateway addresses. */
  serviceChanged(svc: KubeObject, gone?: boolean): void;
  /** The term is over: start nothing more. */
  stop(): void;
}

export interface KubeRuntimeOptions {
  kc: KubeConfig;
  /** The controller's own namespace (Lease, fleet reports). */
  namespace: string;
  /** This replica's identity: its pod name. */
  replica: string;
  leaseName: string;
  xds: { host: string; port: number };
  admin: { host: string; port: number };
  /** mTLS for the xDS server; undefined serves plaintext (tests, development). */
  xdsCredentials?: ServerCredentials;
  xdsServerOptions?: Partial<XdsServerOptions>;
  /** Streams are closed after this long so gateways spread over replicas (default 30 min). */
  maxConnectionAgeMs?: number;
  /** Called each time this replica becomes the leader (as is `provisioner`). */
  statusWriter?: (provider: KubeProvider) => StatusSink;
  provisioner?: (provider: KubeProvider) => FleetProvisioner;
  /** While leading, reconcile the fleets at least this often (drift repair; default 60 s). */
  provisionResyncMs?: number;
  leaderElection?: { leaseDurationMs?: number; renewDeadlineMs?: number; retryPeriodMs?: number };
  reports?: { heartbeatMs?: number; staleMs?: number; minIntervalMs?: number };
  debounceMs?: number;
  maxDelayMs?: number;
  log?: RuntimeLog;
}

export class KubeRuntime {
  readonly provider: KubeProvider;
  readonly cache = new SnapshotCache();
  readonly xds: XdsServer;
  readonly controller: Controller;
  readonly elector: LeaderElector;
  readonly reports: FleetReports;
  private statusSink?: StatusSink;
  private fleetProvisioner?: FleetProvisioner;
  private resync?: NodeJS.Timeout;
  private admin?: Server;
  private translated = false;
  private inputsDirty = false;
  private lastDiagnostics = '';
  xdsPort = 0;
  adminPort = 0;

  constructor(private readonly opts: KubeRuntimeOptions) {
    const log = opts.log;
    this.provider = new KubeProvider(opts.kc, { log });
    this.xds = new XdsServer({
      cache: this.cache,
      maxConnectionAgeMs: opts.maxConnectionAgeMs ?? 30 * 60_000,
      ...(opts.xdsCredentials ? { credentials: opts.xdsCredentials } : {}),
      ...(log ? { log: (level, msg, fields) => log(level, msg, fields) } : {}),
      ...opts.xdsServerOptions,
    });
    this.reports = new FleetReports({
      kc: opts.kc,
      rest: this.provider.rest,
      namespace: opts.namespace,
      replica: opts.replica,
      localNodes: () => this.controller.localNodes(),
      ...opts.reports,
      ...(log ? { log } : {}),
    });
    this.controller = new Controller({
      cache: this.cache,
      nodes: this.xds.nodes,
      debounceMs: opts.debounceMs ?? 50,
      maxDelayMs: opts.maxDelayMs ?? 500,
      remoteNodes: () => this.reports.remoteNodes(),
      addressesOf: (fleet) => this.fleetProvisioner?.addressesOf(fleet) ?? [],
      addressProblemOf: (fleet) => this.fleetProvisioner?.addressProblemOf?.(fleet),
      ...(log ? { log } : {}),
    });
    this.elector = new LeaderElector({
      rest: this.provider.rest,
      namespace: opts.namespace,
      name: opts.leaseName,
      identity: opts.replica,
      ...opts.leaderElection,
      ...(log ? { log } : {}),
    });
  }

  isLeader(): boolean {
    return this.elector.isLeader();
  }

  /** Listed every kind and published the first translation. */
  ready(): boolean {
    return this.translated && this.provider.synced();
  }

  async start(): Promise<void> {
    this.xdsPort = await this.xds.listen(`${this.opts.xds.host}:${this.opts.xds.port}`);
    this.admin = await startAdminApi(this.opts.admin.host, this.opts.admin.port, {
      ready: () => this.ready(),
      registry: this.xds.metrics.registry,
      status: () => ({
        replica: this.opts.replica,
        leader: this.isLeader(),
        resources: this.controller.statuses(),
        diagnostics: this.controller.diagnostics(),
      }),
      fleet: () => ({
        replica: this.opts.replica,
        leader: this.isLeader(),
        nodeGroups: this.cache.nodeGroups().map((g) => ({
          name: g,
          version: this.cache.get(g)!.version,
          nodes: this.xds.nodes.list().filter((n) => n.nodeGroup === g),
          remoteNodes: this.reports.remoteNodes().filter((n) => n.nodeGroup === g),
        })),
      }),
    });
    this.adminPort = (this.admin.address() as { port: number }).port;

    this.xds.nodes.onChange(() => this.reports.localChanged());
    this.reports.onChange(() => this.controller.refresh());
    this.controller.onStatuses((s) => {
      this.statusSink?.update(s);
    });
    this.controller.onTranslated((r) => {
      this.translated = true;
      this.logDiagnostics(r.diagnostics);
      this.opts.log?.('debug', 'translated', {
        fleets: this.controller.ir().fleets.length,
        changed: r.publish.changed,
        ms: Math.round(r.durationMs),
      });
      if (this.isLeader()) this.provision();
    });
    this.elector.onChange((leading) => this.leadershipChanged(leading));

    this.provider.onChange((c) => this.cacheChanged(c));
    this.provider.start();
    this.reports.start();
    this.elector.start();
    await this.provider.whenSynced();
    this.opts.log?.('info', 'every kind listed; translating', {
      objects: this.provider.inputs().length,
    });
    this.controller.setInputs(this.provider.inputs());
    await this.controller.flush();
  }

  async stop(): Promise<void> {
    await this.elector.stop(true);
    this.leadershipChanged(false);
    this.controller.stop();
    await this.reports.stop();
    await this.xds.close();
    await this.provider.stop();
    await new Promise((r) => (this.admin ? this.admin.close(r) : r(undefined)));
  }

  private leadershipChanged(leading: boolean): void {
    clearInterval(this.resync);
    this.fleetProvisioner?.stop();
    this.fleetProvisioner = undefined;
    const writer = this.statusSink;
    this.statusSink = undefined;
    // A deposed leader writes nothing more (what is queued is dropped).
    writer
      ?.stop()
      .catch((e: unknown) =>
        this.opts.log?.('warn', 'stopping the status writer', { error: String(e) }),
      );
    if (!leading) return;
    this.statusSink = this.opts.statusWriter?.(this.provider);
    const p = this.opts.provisioner?.(this.provider);
    if (p) {
      for (const svc of this.provider.list('Service')) p.serviceChanged(svc);
      this.fleetProvisioner = p;
      this.resync = setInterval(() => this.provision(), this.opts.provisionResyncMs ?? 60_000);
    }
    if (!this.translated) return; // the first translation provisions
    // A new leader writes what it knows now and provisions at once.
    this.statusSink?.update(this.controller.statuses());
    this.provision();
  }

  /** Coalesces a burst of cache events into one setInputs (the controller debounces further). */
  private cacheChanged(c: CacheChange): void {
    if (c.kind === 'Service' && c.object) {
      this.fleetProvisioner?.serviceChanged(c.object, c.type === 'delete');
    }
    if (!this.provider.synced()) return;
    if (c.statusOnly) return;
    if (this.inputsDirty) return;
    this.inputsDirty = true;
    setImmediate(() => {
      this.inputsDirty = false;
      this.controller.setInputs(this.provider.inputs());
    });
  }

  private provision(): void {
    const p = this.fleetProvisioner;
    if (!p) return;
    p.reconcile(this.controller.ir(), (ns, name) => this.provider.get('Gateway', ns, name)).catch(
      (e: unknown) => this.opts.log?.('error', 'provisioning failed', { error: String(e) }),
    );
  }

  private logDiagnostics(ds: Diagnostic[]): void {
    const text = JSON.stringify(ds);
    if (text === this.lastDiagnostics) return;
    this.lastDiagnostics = text;
    for (const d of ds) this.opts.log?.('warn', d.message, { code: d.code, object: d.object });
  }
}
