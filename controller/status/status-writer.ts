// Kubernetes mode's status writer: the controller's desired statuses in, the
// fewest possible `/status` writes out.
//
// - Only what changed is written: every object's desired status is diffed
//   (fast-json-patch) against the object as the informer cache has it — or as
//   our own last write left it, while the cache has not caught up — and an
//   object whose diff is empty is not queued. An object already queued is
//   not queued twice: its entry always writes the latest desired status, and
//   is skipped if that has become equal to the object's in the meantime.
// - Optimistic concurrency: each JSON patch carries the resourceVersion it
//   was computed against (see statusPatch), so it fails with 409 if the
//   object changed in between. A conflict re-reads the object, re-merges
//   (another controller's HTTPRoute parent entries are always taken from the
//   object being patched) and retries after a short backoff, a bounded
//   number of times. 404: the object is gone, nothing to write. Any other
//   error: counted, logged and retried with exponential backoff while the
//   status is still desired.
// - Routes that still carry our parent entries but are no longer in the
//   desired set (their parentRef now names another implementation's
//   Gateway, say) have those entries removed, and only those.
// - Rate limited: a token bucket (qps, burst) per API request, and a bound on
//   the writes in flight.
// - Events for notable transitions (events.ts), never blocking a write.
import type { KubeObject } from '../providers/kube/kinds.js';
import { isStatus, type KubeRest } from '../providers/kube/rest.js';
import { notableTransitions, type EventRecorder } from './events.js';
import { TokenBucket } from './rate-limit.js';
import {
  hasOurParents,
  objectPath,
  statusKey,
  statusPatch,
  STATUS_KINDS,
  targetStatus,
  type DesiredStatus,
  type StatusKind,
} from './status-diff.js';

export type { DesiredStatus } from './status-diff.js';

export type StatusLog = (
  level: 'info' | 'warn' | 'error' | 'debug',
  msg: string,
  fields?: Record<string, unknown>,
) => void;

export interface StatusWriterOptions {
  rest: KubeRest;
  /** Ours: 'gatefleet.io/gateway-controller'. */
  controllerName: string;
  /** The object as the informer cache has it (status and resourceVersion included); undefined if unknown. */
  current: (kind: string, namespace: string | undefined, name: string) => KubeObject | undefined;
  /** Every HTTPRoute in the cache: routes that still carry our parent entries but are no longer in the desired set get those entries removed. */
  routes: () => KubeObject[];
  /** Sustained API requests per second (default 250). */
  qps?: number;
  /** Requests allowed at once above the sustained rate (default 1,000). */
  burst?: number;
  /** Writes in flight at once (default 64). */
  concurrency?: number;
  /** undefined: no events. */
  events?: EventRecorder;
  log?: StatusLog;
  /** Conflicts retried per write before it counts as failed (default 5). */
  maxConflictRetries?: number;
  /** Backoff after a failed write (defaults 200 ms doubling to 30 s). */
  retryMinMs?: number;
  retryMaxMs?: number;
}

// Defaults, measured on this project's 2-core machine against a real
// kube-apiserver + etcd on the same host (bench/status-bench.ts). A status
// PATCH costs the API server ≈ 3.5 ms of CPU whatever the patch type, so it
// completes 300–500 of them a second there: that, not the controller, bounds
// how fast 1,000 new routes get their status.
// - burst 1,000: a wave of that size (a namespace applied at once) goes out
//   without waiting on the bucket; qps 250: a longer churn is held under one
//   API server core (250 × 3.5 ms), so the controller never takes more than
//   that from everyone else.
// - concurrency 64: the writer shares an event loop with translation, which
//   pauses it for 100–400 ms at 1,000 routes; with 32 in flight the API server
//   ran dry during those pauses (1.5–2.4 s to settle 1,000 routes, against
//   0.3–1.5 s with 64; 128 gained nothing more). 64 is a third of the API
//   server's default mutating budget (--max-mutating-requests-inflight 200),
//   and API Priority and Fairness queues whatever exceeds our priority
//   level's share, so other clients keep theirs.
// The writer's KubeRest should allow at least `concurrency` sockets.
export const STATUS_WRITER_DEFAULTS = { qps: 250, burst: 1_000, concurrency: 64 } as const;

export interface StatusWriterStats {
  /** Successful status PATCHes. */
  writes: number;
  /** 409 responses (each followed by a re-read). */
  conflicts: number;
  /** Writes that failed (other errors, or conflicts past the retry bound). */
  failures: number;
  /** Evaluations that found the object already up to date: writes avoided. */
  unchanged: number;
}

interface Target {
  kind: StatusKind;
  namespace: string | undefined;
  name: string;
  status: unknown;
}

/** Our last write to an object, until the cache shows someone else's. */
interface Written {
  /** The object the API server returned (dropped once the cache has caught up). */
  object?: KubeObject;
  rv: string;
  /** resourceVersions known to be older than `rv`. */
  older: Set<string>;
  /** The status we sent, serialized: lets a status the server normalises count as written. */
  target: string;
}

function rvOf(o: KubeObject | undefined): string | undefined {
  return o?.metadata?.resourceVersion;
}

function trimmed(o: KubeObject): KubeObject {
  if (o.metadata) delete o.metadata.managedFields;
  return o;
}

export class StatusWriter {
  private desired = new Map<string, Target>();
  private readonly queue = new Set<string>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly retries = new Map<string, NodeJS.Timeout>();
  private readonly failedAttempts = new Map<string, number>();
  private readonly written = new Map<string, Written>();
  /** Objects a write found deleted, with the resourceVersions of that incarnation. */
  private readonly gone = new Map<string, Set<string>>();
  private readonly bucket: TokenBucket;
  private readonly concurrency: number;
  private readonly unknownKinds = new Set<string>();
  private pumpTimer?: NodeJS.Timeout;
  private idleWaiters: (() => void)[] = [];
  private stopped = false;
  private readonly counts: StatusWriterStats = {
    writes: 0,
    conflicts: 0,
    failures: 0,
    unchanged: 0,
  };

  constructor(private readonly opts: StatusWriterOptions) {
    this.bucket = new TokenBucket(
      opts.qps ?? STATUS_WRITER_DEFAULTS.qps,
      opts.burst ?? STATUS_WRITER_DEFAULTS.burst,
    );
    this.concurrency = Math.max(1, opts.concurrency ?? STATUS_WRITER_DEFAULTS.concurrency);
  }

  /** The complete desired set (every call replaces the previous one). Enqueues only objects whose status differs. */
  update(desired: readonly DesiredStatus[]): void {
    if (this.stopped) return;
    const next = new Map<string, Target>();
    for (const d of desired) {
      const kind = STATUS_KINDS.get(d.kind);
      if (!kind) {
        if (!this.unknownKinds.has(d.kind)) {
          this.unknownKinds.add(d.kind);
          this.opts.log?.('warn', 'no status subresource known for kind; not written', {
            kind: d.kind,
          });
        }
        continue;
      }
      const namespace = kind.namespaced ? (d.namespace ?? 'default') : undefined;
      next.set(statusKey(d.kind, namespace, d.name), {
        kind,
        namespace,
        name: d.name,
        status: d.status,
      });
    }
    this.addDepartedRoutes(next);
    this.desired = next;
    for (const k of this.queue) if (!next.has(k)) this.queue.delete(k);
    for (const [k, timer] of this.retries) {
      if (next.has(k)) continue;
      clearTimeout(timer);
      this.retries.delete(k);
    }
    for (const k of this.written.keys()) if (!next.has(k)) this.written.delete(k);
    for (const k of this.failedAttempts.keys()) if (!next.has(k)) this.failedAttempts.delete(k);
    for (const k of this.gone.keys()) if (!next.has(k)) this.gone.delete(k);
    // Routes first, then the Gateways that count them (see StatusKind.order).
    const ordered = [...next].sort(([, a], [, b]) => a.kind.order - b.kind.order);
    for (const [k, t] of ordered) {
      // In flight: re-evaluated when the write completes. Backing off: when the timer fires.
      if (this.inFlight.has(k)) continue;
      const needed = this.needsWrite(k, t);
      if (needed) {
        if (!this.retries.has(k)) this.queue.add(k);
        continue;
      }
      this.counts.unchanged++;
      this.queue.delete(k);
      const timer = this.retries.get(k);
      if (timer) {
        clearTimeout(timer);
        this.retries.delete(k);
        this.failedAttempts.delete(k);
      }
    }
    this.pump();
    this.settle();
  }

  /** Resolves when nothing is queued, in flight or waiting to be retried. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stats(): StatusWriterStats {
    return { ...this.counts };
  }

  /** Stops writing: drops what is queued and waits for the writes in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.pumpTimer);
    this.pumpTimer = undefined;
    for (const t of this.retries.values()) clearTimeout(t);
    this.retries.clear();
    this.queue.clear();
    await Promise.allSettled([...this.inFlight.values()]);
    this.settle();
  }

  /**
   * Routes not in `next` that carry our parent entries, in the cache or as
   * our own last write left them: their desired status is "none of ours".
   */
  private addDepartedRoutes(next: Map<string, Target>): void {
    const kind = STATUS_KINDS.get('HTTPRoute')!;
    const consider = (namespace: string | undefined, name: string | undefined) => {
      if (!name) return;
      const k = statusKey('HTTPRoute', namespace, name);
      if (next.has(k)) return;
      const t: Target = { kind, namespace, name, status: { parents: [] } };
      if (hasOurParents(this.live(k, t)?.status, this.opts.controllerName)) next.set(k, t);
    };
    for (const r of this.opts.routes()) consider(r.metadata?.namespace, r.metadata?.name);
    for (const [k, t] of this.desired)
      if (t.kind === kind && !next.has(k)) consider(t.namespace, t.name);
  }

  /** The freshest view of the object: the cache, unless our own later write is not in it yet. */
  private live(k: string, t: Target): KubeObject | undefined {
    const cached = this.opts.current(t.kind.kind, t.namespace, t.name);
    const rv = rvOf(cached);
    const gone = this.gone.get(k);
    if (gone) {
      if (cached && rv !== undefined && gone.has(rv)) return undefined;
      this.gone.delete(k); // the cache lost it too, or it was created again
    }
    const w = this.written.get(k);
    if (!w) return cached;
    if (!cached) {
      this.written.delete(k);
      return undefined;
    }
    if (rv === w.rv) {
      w.object = undefined; // the cache has caught up
      return cached;
    }
    if (rv !== undefined && w.older.has(rv) && w.object) return w.object;
    this.written.delete(k); // changed since our write: the cache knows better
    return cached;
  }

  private needsWrite(k: string, t: Target): boolean {
    const live = this.live(k, t);
    if (!live) return false;
    const target = targetStatus(t.kind, t.status, live, this.opts.controllerName);
    return statusPatch(live, target) !== undefined && !this.normalised(k, live, target);
  }

  /**
   * True when our last write sent exactly this status and the object is
   * still as that write left it: the API server stored it differently
   * (defaulting), and writing it again would change nothing.
   */
  private normalised(k: string, live: KubeObject, target: unknown): boolean {
    const w = this.written.get(k);
    return !!w && rvOf(live) === w.rv && w.target === JSON.stringify(target);
  }

  private isIdle(): boolean {
    return (
      this.stopped ||
      (this.queue.size === 0 &&
        this.inFlight.size === 0 &&
        this.retries.size === 0 &&
        this.pumpTimer === undefined)
    );
  }

  private settle(): void {
    if (this.isIdle()) for (const w of this.idleWaiters.splice(0)) w();
  }

  private pump(): void {
    if (this.stopped || this.pumpTimer) return;
    while (this.queue.size > 0 && this.inFlight.size < this.concurrency) {
      const k = this.queue.values().next().value as string;
      const t = this.desired.get(k);
      if (!t || !this.needsWrite(k, t)) {
        // Became equal (or undesired) while it waited.
        if (t) this.counts.unchanged++;
        this.queue.delete(k);
        continue;
      }
      const wait = this.bucket.tryTake();
      if (wait > 0) {
        this.pumpTimer = setTimeout(() => {
          this.pumpTimer = undefined;
          this.pump();
          this.settle();
        }, wait);
        return;
      }
      this.queue.delete(k);
      const p = this.write(k)
        .catch((e: unknown) => {
          this.opts.log?.('error', 'status writer bug', { object: k, error: String(e) });
        })
        .finally(() => {
          this.inFlight.delete(k);
          this.afterWrite(k);
          this.pump();
          this.settle();
        });
      this.inFlight.set(k, p);
    }
  }

  /** The desired status may have changed while the write was in flight. */
  private afterWrite(k: string): void {
    if (this.stopped || this.retries.has(k)) return;
    const t = this.desired.get(k);
    if (t && this.needsWrite(k, t)) this.queue.add(k);
  }

  private async write(k: string): Promise<void> {
    const first = this.desired.get(k);
    if (!first) return;
    const cn = this.opts.controllerName;
    const path = objectPath(first.kind, first.namespace, first.name);
    let live = this.live(k, first);
    // While the cache still lags behind our previous write, its versions stay "older" too.
    const prev = this.written.get(k);
    const older = new Set(prev?.object ? prev.older : []);
    for (let conflicts = 0; ;) {
      const t = this.desired.get(k);
      if (!t || !live || this.stopped) return;
      const target = targetStatus(t.kind, t.status, live, cn);
      const ops = statusPatch(live, target);
      if (!ops || this.normalised(k, live, target)) {
        this.counts.unchanged++;
        return;
      }
      for (const rv of [rvOf(live), rvOf(this.opts.current(t.kind.kind, t.namespace, t.name))])
        if (rv !== undefined) older.add(rv);
      try {
        const res = trimmed(
          await this.opts.rest.request<KubeObject>('PATCH', `${path}/status`, {
            contentType: 'application/json-patch+json',
            body: ops,
          }),
        );
        this.counts.writes++;
        this.failedAttempts.delete(k);
        this.written.set(k, {
          object: res,
          rv: rvOf(res) ?? '',
          older,
          target: JSON.stringify(target),
        });
        this.recordEvents(live, res);
        return;
      } catch (e) {
        if (isStatus(e, 404)) return this.markGone(k, older);
        if (!isStatus(e, 409)) return this.failed(k, e);
        this.counts.conflicts++;
        if (++conflicts > (this.opts.maxConflictRetries ?? 5)) return this.failed(k, e);
      }
      // Conflict: re-read, then retry on the fresh object after a short jittered pause.
      await sleep(conflicts * 10 * (0.5 + Math.random()));
      await this.bucket.take();
      try {
        live = trimmed(await this.opts.rest.get<KubeObject>(path));
      } catch (e) {
        if (isStatus(e, 404)) return this.markGone(k, older);
        return this.failed(k, e);
      }
      await this.bucket.take();
    }
  }

  private markGone(k: string, older: Set<string>): void {
    this.written.delete(k);
    this.gone.set(k, older);
    this.opts.log?.('debug', 'object deleted before its status was written', { object: k });
  }

  private failed(k: string, e: unknown): void {
    this.counts.failures++;
    const n = (this.failedAttempts.get(k) ?? 0) + 1;
    this.failedAttempts.set(k, n);
    const min = this.opts.retryMinMs ?? 200;
    const max = this.opts.retryMaxMs ?? 30_000;
    const delay = Math.round(
      Math.min(max, min * 2 ** Math.min(n - 1, 20)) * (0.8 + Math.random() * 0.4),
    );
    this.opts.log?.('warn', 'status write failed; retrying', {
      object: k,
      error: (e as Error)?.message ?? String(e),
      attempt: n,
      retryInMs: delay,
    });
    if (this.stopped) return;
    this.retries.set(
      k,
      setTimeout(() => {
        this.retries.delete(k);
        const t = this.desired.get(k);
        if (t && this.needsWrite(k, t)) this.queue.add(k);
        this.pump();
        this.settle();
      }, delay),
    );
  }

  private recordEvents(before: KubeObject, after: KubeObject): void {
    const events = this.opts.events;
    if (!events) return;
    try {
      for (const e of notableTransitions(before, after, this.opts.controllerName)) events.record(e);
    } catch (e) {
      this.opts.log?.('warn', 'event not recorded', { error: (e as Error).message });
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
