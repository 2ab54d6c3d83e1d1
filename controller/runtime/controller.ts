// The controller loop shared by standalone and Kubernetes mode: inputs in
// (from any provider), one translation per burst of changes (coalesced),
// snapshots published to the xDS cache, and statuses out — with Gateway
// Programmed taken from what the fleets actually applied. The previous
// statuses are fed back into the next translation, so condition transition
// times survive re-translation wherever the inputs come from.
import { EventEmitter } from 'node:events';
import type { GatewayStatus } from '../apis/types.js';
import type { IR } from '../ir/types.js';
import { overlayAddressStatus, type AddressProblemOf } from '../status/address-status.js';
import {
  overlayFleetStatus,
  type FleetObservation,
  type ObservedNode,
} from '../status/fleet-status.js';
import { rfc3339Now, translate, TranslationMemo, type StatusUpdate } from '../translator/index.js';
import type { InputObject } from '../translator/input.js';
import type { SnapshotCache } from '../../xds/cache.js';
import { publishIR, type PublishResult } from '../../xds/publish.js';
import type { NodeRegistry } from '../../xds/server/nodes.js';
import type { Diagnostic } from '../errors.js';

export interface ControllerOptions {
  cache: SnapshotCache;
  nodes: NodeRegistry;
  /** Quiet period before translating a burst of changes. */
  debounceMs?: number;
  /** Upper bound on how long a steady stream of changes can delay a translation. */
  maxDelayMs?: number;
  log?: (level: 'info' | 'warn' | 'debug', msg: string, fields?: Record<string, unknown>) => void;
  now?: () => string;
  /**
   * Addresses to publish in a Gateway's status (from whoever runs its fleet):
   * plain strings are IP addresses.
   */
  addressesOf?: (fleet: string) => (string | { type: 'IPAddress' | 'Hostname'; value: string })[];
  /**
   * Why a fleet does not have the addresses its Gateways requested (yet),
   * from whoever runs it: Programmed becomes False with that reason.
   */
  addressProblemOf?: AddressProblemOf;
  /**
   * Gateways connected to other controller replicas (Kubernetes mode: every
   * replica serves xDS, so each sees only part of the fleet). Merged with the
   * local registry; a node seen in both counts once, the local view winning.
   */
  remoteNodes?: () => readonly ObservedNode[];
}

export interface TranslationReport {
  publish: PublishResult;
  diagnostics: Diagnostic[];
  durationMs: number;
}

function statusKey(s: { kind: string; name: string; namespace?: string }): string {
  return `${s.kind}/${s.namespace ?? ''}/${s.name}`;
}

function objectKey(o: unknown): string | undefined {
  const r = o as { kind?: string; metadata?: { name?: string; namespace?: string } };
  if (!r?.kind || !r.metadata?.name) return undefined;
  const namespaced = r.kind !== 'GatewayClass';
  return `${r.kind}/${namespaced ? (r.metadata.namespace ?? 'default') : ''}/${r.metadata.name}`;
}

export class Controller {
  private readonly events = new EventEmitter();
  private inputs: readonly InputObject[] = [];
  private timer?: NodeJS.Timeout;
  private firstPending?: number;
  private translatedStatuses: StatusUpdate[] = [];
  private current: StatusUpdate[] = [];
  /** `current` as JSON: statuses are compared on every translation and every ACK. */
  private currentJson = '[]\0[]'; // no statuses
  /** JSON of the translation's statuses other than Gateways', and which translation it is of. */
  private otherJson = '';
  private indexedFrom?: readonly StatusUpdate[];
  private generationsOf?: { inputs: readonly InputObject[]; byKey: ReadonlyMap<string, number> };
  private lastIR: IR = { fleets: [] };
  private lastDiagnostics: Diagnostic[] = [];
  private readonly statusByKey = new Map<string, StatusUpdate>();
  private running?: Promise<void>;
  private translations = 0;
  /** What each translation reuses from the previous one (unchanged routes, clusters, IR). */
  private readonly memo = new TranslationMemo();

  constructor(private readonly opts: ControllerOptions) {
    opts.nodes.onChange(() => this.refreshStatuses());
  }

  /** Replaces the inputs; translation follows after the debounce. */
  setInputs(inputs: readonly InputObject[]): void {
    this.inputs = inputs;
    this.schedule();
  }

  /** Translates now (and waits for it). */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.firstPending = undefined;
    await (this.running = this.translateNow());
  }

  ir(): IR {
    return this.lastIR;
  }

  statuses(): StatusUpdate[] {
    return this.current;
  }

  diagnostics(): Diagnostic[] {
    return this.lastDiagnostics;
  }

  translationCount(): number {
    return this.translations;
  }

  onStatuses(listener: (s: StatusUpdate[]) => void): void {
    this.events.on('statuses', listener);
  }

  onTranslated(listener: (r: TranslationReport) => void): void {
    this.events.on('translated', listener);
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  private schedule(): void {
    const debounce = this.opts.debounceMs ?? 50;
    const maxDelay = this.opts.maxDelayMs ?? 500;
    const now = Date.now();
    this.firstPending ??= now;
    clearTimeout(this.timer);
    const wait = Math.max(0, Math.min(debounce, this.firstPending + maxDelay - now));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.firstPending = undefined;
      const prior = this.running ?? Promise.resolve();
      this.running = prior.then(() => this.translateNow());
    }, wait);
  }

  private async translateNow(): Promise<void> {
    const t0 = performance.now();
    // Feed the previous statuses back: transition times and foreign conditions survive.
    const inputs = this.inputs.map((i) => {
      const k = objectKey(i.object);
      const prev = k ? this.statusByKey.get(k) : undefined;
      return prev && (i.object as { status?: unknown }).status === undefined
        ? { ...i, object: { ...(i.object as object), status: prev.status } }
        : i;
    });
    const now = this.opts.now?.() ?? rfc3339Now();
    const result = translate(inputs, { now, memo: this.memo });
    const publish = publishIR(result.ir, this.opts.cache);
    for (const r of publish.rejected) {
      this.opts.log?.('warn', 'node group kept at its previous snapshot', {
        nodeGroup: r.nodeGroup,
        problems: r.problems,
      });
    }
    this.translations++;
    this.lastIR = result.ir;
    this.lastDiagnostics = result.diagnostics;
    this.translatedStatuses = result.statuses;
    this.refreshStatuses(now);
    this.events.emit('translated', {
      publish,
      diagnostics: result.diagnostics,
      durationMs: performance.now() - t0,
    });
  }

  /** Re-derives the fleet part of statuses now (e.g. after other replicas reported). */
  refresh(): void {
    this.refreshStatuses();
  }

  /** What the gateways connected to this replica applied or refused. */
  localNodes(): ObservedNode[] {
    return this.observation(false).nodes as ObservedNode[];
  }

  private observation(withRemote = true): FleetObservation {
    const versions = new Map<string, string>();
    for (const g of this.opts.cache.nodeGroups()) versions.set(g, this.opts.cache.get(g)!.version);
    const local = this.opts.nodes.list().map((n) => {
      let lastNack: { version: string; message: string; at: string } | undefined;
      for (const t of Object.values(n.types)) {
        if (t.lastNack && (!lastNack || t.lastNack.at > lastNack.at)) lastNack = t.lastNack;
      }
      return {
        id: n.id,
        nodeGroup: n.nodeGroup,
        ...(n.appliedVersion ? { appliedVersion: n.appliedVersion } : {}),
        ...(lastNack ? { lastNack } : {}),
      };
    });
    if (!withRemote || !this.opts.remoteNodes) return { versions, nodes: local };
    const seen = new Set(local.map((n) => n.id));
    const remote = this.opts.remoteNodes().filter((n) => !seen.has(n.id));
    return { versions, nodes: [...local, ...remote] };
  }

  /** Recomputes the fleet part of statuses (after a translation or any ACK/NACK) and emits on change. */
  private refreshStatuses(now = this.opts.now?.() ?? rfc3339Now()): void {
    // statusByKey still holds the previous statuses: it is replaced at the end.
    const previous = (ns: string, name: string) =>
      this.statusByKey.get(`Gateway/${ns}/${name}`)?.status as GatewayStatus | undefined;
    const generations = this.gatewayGenerations();
    const generation = (ns: string, name: string) => generations.get(`${ns}/${name}`) ?? 1;
    // An address problem takes Programmed from the translator first, so the
    // fleet overlay (which only replaces Programmed=True) leaves it alone.
    const translated = this.opts.addressProblemOf
      ? overlayAddressStatus(
          this.translatedStatuses,
          this.lastIR,
          this.opts.addressProblemOf,
          previous,
          generation,
          { now },
        )
      : this.translatedStatuses;
    const next = overlayFleetStatus(
      translated,
      this.lastIR,
      this.observation(),
      previous,
      generation,
      { now },
    );
    if (this.opts.addressesOf) {
      const fleetOf = new Map<string, string>();
      for (const f of this.lastIR.fleets)
        for (const g of f.gateways) fleetOf.set(`${g.namespace}/${g.name}`, f.name);
      for (const s of next) {
        if (s.kind !== 'Gateway') continue;
        const fleet = fleetOf.get(`${s.namespace}/${s.name}`);
        const addrs = fleet ? this.opts.addressesOf(fleet) : [];
        if (addrs.length > 0)
          s.status = {
            ...s.status,
            addresses: addrs.map((a) =>
              typeof a === 'string' ? { type: 'IPAddress', value: a } : a,
            ),
          };
      }
    }
    // Only Gateway statuses depend on what the fleet applied (this runs on
    // every ACK); the others change only with a translation, so their JSON
    // and their index entries are made once per translation.
    const translationChanged = this.indexedFrom !== this.translatedStatuses;
    if (translationChanged) {
      this.otherJson = JSON.stringify(this.translatedStatuses.filter((x) => x.kind !== 'Gateway'));
      this.indexedFrom = this.translatedStatuses;
    }
    const json = `${this.otherJson}\0${JSON.stringify(next.filter((x) => x.kind === 'Gateway'))}`;
    const changed = json !== this.currentJson;
    this.current = next;
    this.currentJson = json;
    if (translationChanged) this.statusByKey.clear();
    for (const s of next)
      if (translationChanged || s.kind === 'Gateway') this.statusByKey.set(statusKey(s), s);
    if (changed) this.events.emit('statuses', next);
  }

  /** Gateway generations by `<namespace>/<name>`, once per set of inputs. */
  private gatewayGenerations(): ReadonlyMap<string, number> {
    if (this.generationsOf?.inputs === this.inputs) return this.generationsOf.byKey;
    const byKey = new Map<string, number>();
    for (const i of this.inputs) {
      const o = i.object as {
        kind?: string;
        metadata?: { name?: string; namespace?: string; generation?: number };
      };
      if (o?.kind !== 'Gateway' || !o.metadata?.name) continue;
      byKey.set(
        `${o.metadata.namespace ?? 'default'}/${o.metadata.name}`,
        o.metadata.generation ?? 1,
      );
    }
    this.generationsOf = { inputs: this.inputs, byKey };
    return byKey;
  }
}
