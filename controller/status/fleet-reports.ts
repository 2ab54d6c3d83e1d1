// Every controller replica serves xDS, so each sees only the gateways
// connected to it; the leader writes status for all of them. Each replica
// therefore publishes what its gateways applied or refused in a ConfigMap of
// its own (`gatefleet-xds-report-<replica>`, label gatefleet.io/xds-report),
// and every replica watches the others'. Snapshot versions are content
// hashes, so versions reported by different replicas compare directly.
//
// A report that has not changed for `staleMs` on *our* clock belongs to a
// replica that is gone (replicas re-publish every heartbeat even when nothing
// changed), and is ignored — clock skew between replicas cannot matter.
import { ListWatch, Watch, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { ObservedNode } from './fleet-status.js';
import { isStatus, type KubeRest } from '../providers/kube/rest.js';

export const REPORT_LABEL = 'gatefleet.io/xds-report';
const DATA_KEY = 'nodes.json';
const FIELD_MANAGER = 'gatefleet';

export interface FleetReportsOptions {
  kc: KubeConfig;
  rest: KubeRest;
  namespace: string;
  /** This replica's name (its pod name). */
  replica: string;
  localNodes: () => readonly ObservedNode[];
  /** Re-publish at least this often. */
  heartbeatMs?: number;
  /** Publish at most once per this interval (changes in between are coalesced). */
  minIntervalMs?: number;
  /** A report unchanged for this long is a gone replica's. */
  staleMs?: number;
  log?: (level: 'info' | 'warn' | 'debug', msg: string, fields?: Record<string, unknown>) => void;
}

interface Seen {
  replica: string;
  nodes: ObservedNode[];
  raw: string;
  changedAt: number;
}

export function reportName(replica: string): string {
  const safe = replica
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/^-+|-+$/g, '');
  return `gatefleet-xds-report-${safe}`.slice(0, 253);
}

export class FleetReports {
  private readonly seen = new Map<string, Seen>();
  private readonly listeners: (() => void)[] = [];
  private informer?: ListWatch<KubernetesObject>;
  private heartbeat?: NodeJS.Timeout;
  private pending?: NodeJS.Timeout;
  private staleCheck?: NodeJS.Timeout;
  private lastPublished = 0;
  private lastPayload = '';
  private publishing?: Promise<void>;
  private stopped = false;

  constructor(private readonly opts: FleetReportsOptions) {}

  private get path(): string {
    return `/api/v1/namespaces/${this.opts.namespace}/configmaps`;
  }

  start(): void {
    const informer = new ListWatch<KubernetesObject>(
      this.path,
      new Watch(this.opts.kc),
      () =>
        this.opts.rest.get(this.path, { labelSelector: `${REPORT_LABEL}=true` }) as Promise<never>,
      false,
      `${REPORT_LABEL}=true`,
    );
    const upsert = (o: KubernetesObject) => this.received(o);
    informer.on('add', upsert);
    informer.on('update', upsert);
    informer.on('delete', (o) => {
      if (this.seen.delete(o.metadata?.name ?? '')) this.emit();
    });
    informer.on('error', (e: unknown) => {
      if (this.stopped) return;
      this.opts.log?.('warn', 'watching fleet reports failed; retrying', { error: String(e) });
      setTimeout(() => void informer.start(), 2_000);
    });
    this.informer = informer;
    void informer.start();
    const beat = this.opts.heartbeatMs ?? 10_000;
    this.heartbeat = setInterval(() => this.publish(true), beat);
    this.staleCheck = setInterval(() => this.emit(), Math.min(beat, 5_000));
    this.localChanged();
  }

  /** Schedules a publication of this replica's nodes (rate-limited). */
  localChanged(): void {
    if (this.stopped || this.pending) return;
    const gap = this.opts.minIntervalMs ?? 1_000;
    const wait = Math.max(0, this.lastPublished + gap - Date.now());
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.publish(false);
    }, wait);
  }

  /** Nodes connected to the other replicas, from their live reports. */
  remoteNodes(): ObservedNode[] {
    const staleMs = this.opts.staleMs ?? 30_000;
    const now = Date.now();
    const out: ObservedNode[] = [];
    for (const s of this.seen.values()) {
      if (s.replica === this.opts.replica || now - s.changedAt > staleMs) continue;
      out.push(...s.nodes);
    }
    return out;
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** Stops publishing and removes this replica's report. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.heartbeat);
    clearInterval(this.staleCheck);
    clearTimeout(this.pending);
    await this.publishing;
    await this.informer?.stop();
    try {
      await this.opts.rest.request('DELETE', `${this.path}/${reportName(this.opts.replica)}`);
    } catch (e) {
      if (!isStatus(e, 404)) {
        this.opts.log?.('warn', 'could not remove the fleet report', { error: String(e) });
      }
    }
  }

  private emit(): void {
    for (const l of this.listeners) l();
  }

  private received(o: KubernetesObject): void {
    const cm = o as KubernetesObject & { data?: Record<string, string> };
    const name = cm.metadata?.name ?? '';
    const raw = cm.data?.[DATA_KEY] ?? '';
    const prev = this.seen.get(name);
    if (prev?.raw === raw) return;
    let parsed: { replica?: string; nodes?: ObservedNode[] };
    try {
      parsed = JSON.parse(raw) as typeof parsed;
    } catch {
      this.opts.log?.('warn', 'ignoring an unreadable fleet report', { configMap: name });
      return;
    }
    this.seen.set(name, {
      replica: parsed.replica ?? name,
      nodes: Array.isArray(parsed.nodes) ? parsed.nodes : [],
      raw,
      changedAt: Date.now(),
    });
    this.emit();
  }

  private publish(heartbeat: boolean): void {
    if (this.stopped) return;
    const nodes = [...this.opts.localNodes()].sort((a, b) => (a.id < b.id ? -1 : 1));
    const body = JSON.stringify({ replica: this.opts.replica, nodes });
    // The heartbeat changes `at` so that watchers see the replica is alive.
    if (!heartbeat && body === this.lastPayload) return;
    this.lastPayload = body;
    this.lastPublished = Date.now();
    const payload = JSON.stringify({
      replica: this.opts.replica,
      at: new Date().toISOString(),
      nodes,
    });
    const name = reportName(this.opts.replica);
    const prior = this.publishing ?? Promise.resolve();
    this.publishing = prior.then(() =>
      this.opts.rest
        .request('PATCH', `${this.path}/${name}`, {
          query: { fieldManager: FIELD_MANAGER, force: true },
          contentType: 'application/apply-patch+yaml',
          body: {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: {
              name,
              namespace: this.opts.namespace,
              labels: { [REPORT_LABEL]: 'true', 'app.kubernetes.io/managed-by': 'gatefleet' },
            },
            data: { [DATA_KEY]: payload },
          },
        })
        .then(
          () => undefined,
          (e: unknown) => {
            this.lastPayload = ''; // try again at the next change or heartbeat
            this.opts.log?.('warn', 'could not publish the fleet report', { error: String(e) });
          },
        ),
    );
  }
}
