// Kubernetes mode's provider: one list/watch per kind the translator reads
// (@kubernetes/client-node's ListWatch, which relists when a watch expires
// with 410 Gone), a cache of the objects as the API server serves them, and a
// change signal. It is "synced" once every kind has been listed, or found not
// installed; the controller translates nothing before that, so the first
// snapshot never describes a half-read cluster.
//
// A kind whose list or watch fails is restarted with backoff and reported;
// the others carry on. A kind that is not installed (404) counts as empty and
// is looked for again periodically, so installing a CRD later is picked up.
import type { KubeConfig } from '@kubernetes/client-node';
import { ListWatch, Watch, type KubernetesObject } from '@kubernetes/client-node';
import type { InputObject } from '../../translator/input.js';
import {
  apiVersionOf,
  collectionPath,
  WATCHED_KINDS,
  type KubeObject,
  type WatchedKind,
} from './kinds.js';
import { KubeRest, isStatus } from './rest.js';

export type ProviderLog = (
  level: 'info' | 'warn' | 'error' | 'debug',
  msg: string,
  fields?: Record<string, unknown>,
) => void;

export interface KubeProviderOptions {
  kinds?: readonly WatchedKind[];
  log?: ProviderLog;
  /** Backoff between restarts of a failed list/watch. */
  retryMinMs?: number;
  retryMaxMs?: number;
  /** How often a kind that is not installed is looked for again. */
  absentRetryMs?: number;
  /** Page size of lists (keeps the API server's memory flat on big clusters). */
  pageSize?: number;
}

interface KindState {
  kind: WatchedKind;
  objects: Map<string, KubeObject>;
  informer: ListWatch<KubernetesObject>;
  synced: boolean;
  absent: boolean;
  failures: number;
  retry?: NodeJS.Timeout;
}

interface ListPage {
  items?: KubeObject[];
  metadata?: { resourceVersion?: string; continue?: string };
}

/** What changed in the cache. */
export interface CacheChange {
  kind: string;
  type: 'add' | 'update' | 'delete' | 'synced' | 'absent';
  object?: KubeObject;
  /**
   * Only the status changed (same generation, labels, annotations and
   * deletion state): nothing the translator decides from. Our own status
   * writes come back as such changes and need no new translation.
   */
  statusOnly: boolean;
}

/** Kinds whose spec changes bump metadata.generation (CRDs with a status subresource). */
const GENERATION_KINDS: ReadonlySet<string> = new Set([
  'GatewayClass',
  'Gateway',
  'HTTPRoute',
  'FleetConfig',
  'BackendTLSPolicy',
]);

function sameExceptStatus(kind: string, a: KubeObject | undefined, b: KubeObject): boolean {
  if (!a || !GENERATION_KINDS.has(kind)) return false;
  const ma = a.metadata ?? {};
  const mb = b.metadata ?? {};
  return (
    ma.generation === mb.generation &&
    ma.deletionTimestamp === mb.deletionTimestamp &&
    JSON.stringify(ma.labels ?? {}) === JSON.stringify(mb.labels ?? {}) &&
    JSON.stringify(ma.annotations ?? {}) === JSON.stringify(mb.annotations ?? {})
  );
}

function objectKey(o: KubeObject): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}

export class KubeProvider {
  private readonly states = new Map<string, KindState>();
  private readonly changeListeners: ((c: CacheChange) => void)[] = [];
  private readonly syncWaiters: (() => void)[] = [];
  private stopped = false;
  private changes = 0;
  readonly rest: KubeRest;

  constructor(
    private readonly kc: KubeConfig,
    private readonly opts: KubeProviderOptions = {},
  ) {
    this.rest = new KubeRest(kc);
  }

  /** Starts every list/watch; resolves at once (see whenSynced). */
  start(): void {
    const watch = new Watch(this.kc);
    for (const kind of this.opts.kinds ?? WATCHED_KINDS) {
      const state: KindState = {
        kind,
        objects: new Map(),
        synced: false,
        absent: false,
        failures: 0,
        informer: undefined as never,
      };
      state.informer = new ListWatch(
        collectionPath(kind),
        watch,
        () => this.listAll(state) as never,
        false,
        undefined,
        kind.fieldSelector,
      );
      state.informer.on('add', (o) => this.upsert(state, o as KubeObject));
      state.informer.on('update', (o) => this.upsert(state, o as KubeObject));
      state.informer.on('delete', (o) => this.remove(state, o as KubeObject));
      state.informer.on('error', (e: unknown) => this.failed(state, e));
      this.states.set(kind.kind, state);
    }
    for (const s of this.states.values()) void s.informer.start();
  }

  /** Resolves once every kind has been listed (or found not installed). */
  whenSynced(): Promise<void> {
    if (this.synced()) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  synced(): boolean {
    for (const s of this.states.values()) if (!s.synced) return false;
    return this.states.size > 0;
  }

  /** Kinds not yet synced, for readiness reporting. */
  pending(): string[] {
    return [...this.states.values()].filter((s) => !s.synced).map((s) => s.kind.kind);
  }

  /** Called after every change to the cache (add, update, delete, relist). */
  onChange(listener: (change: CacheChange) => void): void {
    this.changeListeners.push(listener);
  }

  /** How many changes the cache has seen. */
  changeCount(): number {
    return this.changes;
  }

  get(kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.states.get(kind)?.objects.get(`${namespace ?? ''}/${name}`);
  }

  list(kind: string): KubeObject[] {
    return [...(this.states.get(kind)?.objects.values() ?? [])];
  }

  /** Every cached object, as translator input, in a stable order. */
  inputs(): InputObject[] {
    const out: InputObject[] = [];
    for (const s of this.states.values()) {
      const keys = [...s.objects.keys()].sort();
      for (const k of keys) out.push({ object: s.objects.get(k) });
    }
    return out;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const s of this.states.values()) {
      clearTimeout(s.retry);
      await s.informer.stop();
    }
    this.rest.close();
  }

  /** The list function ListWatch calls: all pages, items normalised. */
  private async listAll(state: KindState): Promise<ListPage> {
    const items: KubeObject[] = [];
    let cont: string | undefined;
    let resourceVersion = '';
    try {
      do {
        const page = await this.rest.get<ListPage>(collectionPath(state.kind), {
          fieldSelector: state.kind.fieldSelector,
          limit: this.opts.pageSize ?? 500,
          continue: cont,
        });
        items.push(...(page.items ?? []));
        cont = page.metadata?.continue || undefined;
        resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
      } while (cont);
    } catch (e) {
      if (isStatus(e, 404)) {
        // Not installed: nothing to list. Watching a missing kind would fail
        // too, so the list is retried instead (see failed()).
        throw Object.assign(new Error(`${state.kind.kind} is not installed`), { absent: true });
      }
      throw e;
    }
    if (state.absent) {
      state.absent = false;
      this.opts.log?.('info', 'kind now installed', { kind: state.kind.kind });
    }
    // ListWatch applies the list right after this promise resolves; the kind
    // counts as synced once that has happened.
    setImmediate(() => this.markSynced(state));
    state.failures = 0;
    return { items, metadata: { resourceVersion } };
  }

  private normalise(state: KindState, o: KubeObject): KubeObject {
    o.apiVersion = apiVersionOf(state.kind);
    o.kind = state.kind.kind;
    if (o.metadata) delete o.metadata.managedFields;
    state.kind.trim?.(o);
    return o;
  }

  private upsert(state: KindState, o: KubeObject): void {
    const k = objectKey(o);
    const prev = state.objects.get(k);
    const object = this.normalise(state, o);
    state.objects.set(k, object);
    this.changed({
      kind: state.kind.kind,
      type: prev ? 'update' : 'add',
      object,
      statusOnly:
        sameExceptStatus(state.kind.kind, prev, object) ||
        (prev !== undefined && state.kind.sameForTranslation?.(prev, object) === true),
    });
  }

  private remove(state: KindState, o: KubeObject): void {
    const k = objectKey(o);
    const prev = state.objects.get(k);
    if (state.objects.delete(k)) {
      this.changed({ kind: state.kind.kind, type: 'delete', object: prev, statusOnly: false });
    }
  }

  private changed(change: CacheChange): void {
    this.changes++;
    for (const l of this.changeListeners) l(change);
  }

  private markSynced(state: KindState): void {
    if (state.synced) return;
    state.synced = true;
    this.opts.log?.('debug', 'kind synced', { kind: state.kind.kind, objects: state.objects.size });
    this.changed({ kind: state.kind.kind, type: 'synced', statusOnly: false });
    if (this.synced()) for (const w of this.syncWaiters.splice(0)) w();
  }

  private failed(state: KindState, e: unknown): void {
    if (this.stopped) return;
    const absent = (e as { absent?: boolean }).absent === true;
    if (absent) {
      if (!state.absent) {
        this.opts.log?.(
          state.kind.optional ? 'info' : 'error',
          'kind not installed; watching for it',
          {
            kind: state.kind.kind,
            apiVersion: apiVersionOf(state.kind),
          },
        );
      }
      state.absent = true;
      if (state.objects.size > 0) {
        state.objects.clear();
        this.changed({ kind: state.kind.kind, type: 'absent', statusOnly: false });
      }
      this.markSynced(state);
      state.retry = setTimeout(
        () => void state.informer.start(),
        this.opts.absentRetryMs ?? 30_000,
      );
      return;
    }
    state.failures++;
    const min = this.opts.retryMinMs ?? 500;
    const max = this.opts.retryMaxMs ?? 30_000;
    const delay = Math.min(max, min * 2 ** Math.min(state.failures - 1, 16));
    this.opts.log?.('warn', 'list/watch failed; retrying', {
      kind: state.kind.kind,
      error: (e as Error)?.message ?? String(e),
      retryInMs: delay,
    });
    state.retry = setTimeout(() => void state.informer.start(), delay);
  }
}
