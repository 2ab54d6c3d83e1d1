// Kubernetes Events (events.k8s.io/v1) for the status transitions a person
// wants to see in `kubectl describe` / `kubectl events`: a route parent's
// Accepted or ResolvedRefs turning False, a Gateway whose fleet refused its
// configuration (Programmed=False/Invalid, the NACK's message), a Gateway
// becoming Programmed. The writer calls notableTransitions() with the status
// it replaced and the one the API server returned, and hands the result to an
// EventRecorder.
//
// Recording never blocks or fails a status write: record() only queues
// (bounded: beyond maxQueue events are dropped and counted) and a small pool
// posts them. Deduplication: an event with the same (object, related object,
// reason, note) as one emitted within the last dedupMs (10 minutes) is
// suppressed, not aggregated into a series — a repeat carries no new
// information, and suppression costs no API request at all.
import type { Condition, GatewayStatus, HTTPRouteStatus } from '../apis/types.js';
import type { KubeObject } from '../providers/kube/kinds.js';
import type { KubeRest } from '../providers/kube/rest.js';
import { parentRefId } from './status-diff.js';

export interface ObjectReference {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  uid?: string;
  resourceVersion?: string;
}

export interface NotableEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  note: string;
  /** What the controller did or failed to do (events.k8s.io `action`). */
  action: string;
  regarding: ObjectReference;
  related?: ObjectReference;
}

const GATEWAY_API_VERSION = 'gateway.networking.k8s.io/v1';
const ROUTE_ACTIONS: Readonly<Record<string, string>> = {
  Accepted: 'Accept',
  ResolvedRefs: 'ResolveRefs',
};

function referenceTo(o: KubeObject): ObjectReference {
  const md = o.metadata ?? {};
  return {
    apiVersion: o.apiVersion ?? '',
    kind: o.kind ?? '',
    ...(md.namespace ? { namespace: md.namespace } : {}),
    name: md.name ?? '',
    ...(md.uid ? { uid: md.uid } : {}),
    ...(md.resourceVersion ? { resourceVersion: md.resourceVersion } : {}),
  };
}

function condition(conds: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conds?.find((c) => c.type === type);
}

/**
 * The notable transitions between `before` (the object a status write
 * replaced) and `after` (what the API server returned), for our own
 * conditions only. A condition that was already False for the same reason
 * makes no event; one that stays False with a new reason does.
 */
export function notableTransitions(
  before: KubeObject,
  after: KubeObject,
  controllerName: string,
): NotableEvent[] {
  const regarding = referenceTo(after);
  const out: NotableEvent[] = [];
  if (after.kind === 'HTTPRoute') {
    const ns = after.metadata?.namespace ?? 'default';
    const prevByRef = new Map(
      ((before.status as HTTPRouteStatus | undefined)?.parents ?? [])
        .filter((p) => p.controllerName === controllerName)
        .map((p) => [parentRefId(p.parentRef, ns), p]),
    );
    for (const p of (after.status as HTTPRouteStatus | undefined)?.parents ?? []) {
      if (p.controllerName !== controllerName) continue;
      const prev = prevByRef.get(parentRefId(p.parentRef, ns));
      const ref = p.parentRef;
      const related: ObjectReference | undefined =
        (ref.group ?? 'gateway.networking.k8s.io') === 'gateway.networking.k8s.io' &&
        (ref.kind ?? 'Gateway') === 'Gateway'
          ? {
              apiVersion: GATEWAY_API_VERSION,
              kind: 'Gateway',
              namespace: ref.namespace ?? ns,
              name: ref.name,
            }
          : undefined;
      for (const type of Object.keys(ROUTE_ACTIONS)) {
        const c = condition(p.conditions, type);
        if (c?.status !== 'False') continue;
        const was = condition(prev?.conditions, type);
        if (was?.status === 'False' && was.reason === c.reason) continue;
        out.push({
          type: 'Warning',
          reason: c.reason,
          note: c.message,
          action: ROUTE_ACTIONS[type]!,
          regarding,
          ...(related ? { related } : {}),
        });
      }
    }
  } else if (after.kind === 'Gateway') {
    const c = condition((after.status as GatewayStatus | undefined)?.conditions, 'Programmed');
    const was = condition((before.status as GatewayStatus | undefined)?.conditions, 'Programmed');
    if (c?.status === 'False' && c.reason === 'Invalid') {
      const same = was?.status === 'False' && was.reason === c.reason && was.message === c.message;
      if (!same)
        out.push({
          type: 'Warning',
          reason: c.reason,
          note: c.message,
          action: 'Program',
          regarding,
        });
    } else if (c?.status === 'True' && was?.status !== 'True') {
      out.push({ type: 'Normal', reason: c.reason, note: c.message, action: 'Program', regarding });
    }
  }
  return out;
}

export interface EventRecorderOptions {
  rest: KubeRest;
  /** events.k8s.io reportingController, e.g. gatefleet.io/gateway-controller. */
  controllerName: string;
  /** events.k8s.io reportingInstance: which replica (the pod name). */
  instance: string;
  /** Suppression window for identical events (default 10 minutes). */
  dedupMs?: number;
  /** Events waiting to be posted beyond this are dropped (default 1,000). */
  maxQueue?: number;
  /** Posts in flight at once (default 2). */
  concurrency?: number;
  log?: (
    level: 'info' | 'warn' | 'error' | 'debug',
    msg: string,
    fields?: Record<string, unknown>,
  ) => void;
  now?: () => number;
}

export interface EventStats {
  emitted: number;
  suppressed: number;
  dropped: number;
  failed: number;
}

/** The API's limits: note ≤ 1 kB; a name must stay a DNS subdomain (≤ 253). */
const MAX_NOTE_BYTES = 1024;
const MAX_NAME_PREFIX = 200;

function truncateUtf8(s: string, bytes: number): string {
  if (Buffer.byteLength(s) <= bytes) return s;
  let out = s.slice(0, bytes);
  while (Buffer.byteLength(out) > bytes - 3) out = out.slice(0, -1);
  return `${out}...`;
}

/** events.k8s.io MicroTime: RFC 3339 with microseconds. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, '000Z');
}

export class EventRecorder {
  private readonly recent = new Map<string, number>();
  private readonly queue: { event: NotableEvent; key: string }[] = [];
  private inFlight = 0;
  private sequence = 0;
  private stopped = false;
  private waiters: (() => void)[] = [];
  private readonly counts: EventStats = { emitted: 0, suppressed: 0, dropped: 0, failed: 0 };

  constructor(private readonly opts: EventRecorderOptions) {}

  /** Queues an event unless an identical one was emitted recently. Never throws, never waits. */
  record(e: NotableEvent): void {
    if (this.stopped) return;
    const now = this.now();
    const window = this.opts.dedupMs ?? 600_000;
    // Keys are inserted as events are emitted, so the oldest come first.
    for (const [k, at] of this.recent) {
      if (now - at < window) break;
      this.recent.delete(k);
    }
    const r = e.regarding;
    const key = [
      r.kind,
      r.namespace ?? '',
      r.name,
      r.uid ?? '',
      e.related ? `${e.related.kind}/${e.related.namespace ?? ''}/${e.related.name}` : '',
      e.reason,
      e.note,
    ].join('\u0000');
    if (this.recent.has(key)) {
      this.counts.suppressed++;
      return;
    }
    if (this.queue.length >= (this.opts.maxQueue ?? 1_000)) {
      this.counts.dropped++;
      return;
    }
    this.recent.set(key, now);
    this.queue.push({ event: e, key });
    this.pump();
  }

  stats(): EventStats {
    return { ...this.counts };
  }

  /** Resolves once every queued event has been posted (or has failed). */
  idle(): Promise<void> {
    if (this.queue.length === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Drops what is queued and waits for the posts in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.queue.length = 0;
    await this.idle();
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  private pump(): void {
    while (this.queue.length > 0 && this.inFlight < (this.opts.concurrency ?? 2)) {
      const { event, key } = this.queue.shift()!;
      this.inFlight++;
      void this.post(event, key).finally(() => {
        this.inFlight--;
        this.pump();
        if (this.queue.length === 0 && this.inFlight === 0)
          for (const w of this.waiters.splice(0)) w();
      });
    }
  }

  private async post(e: NotableEvent, key: string): Promise<void> {
    const namespace = e.regarding.namespace ?? 'default';
    const at = this.now();
    // Like client-go: the object's name and a unique hex suffix (time, then a sequence).
    const suffix = `${Math.floor(at).toString(16)}${(this.sequence++ % 0x10000).toString(16).padStart(4, '0')}`;
    const name = `${e.regarding.name.slice(0, MAX_NAME_PREFIX)}.${suffix}`;
    const body = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name, namespace },
      eventTime: microTime(at),
      reportingController: this.opts.controllerName,
      reportingInstance: this.opts.instance,
      action: e.action,
      reason: e.reason,
      note: truncateUtf8(e.note, MAX_NOTE_BYTES),
      type: e.type,
      regarding: e.regarding,
      ...(e.related ? { related: e.related } : {}),
    };
    try {
      await this.opts.rest.request(
        'POST',
        `/apis/events.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/events`,
        { body },
      );
      this.counts.emitted++;
    } catch (err) {
      this.counts.failed++;
      this.recent.delete(key); // not emitted: a later identical transition may try again
      this.opts.log?.('warn', 'event not recorded', {
        regarding: `${e.regarding.kind}/${namespace}/${e.regarding.name}`,
        reason: e.reason,
        error: (err as Error).message,
      });
    }
  }
}
