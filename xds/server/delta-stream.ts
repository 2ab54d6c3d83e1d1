// Incremental ADS (DeltaAggregatedResources). Per type: the subscription and
// the version of every resource the client holds. Only resources whose
// version differs are sent; resources that go away, or that a client asked
// for and do not exist, are listed in removed_resources. A (re)subscribed
// name is always sent, even at a version the client claims to hold; on a new
// stream, initial_resource_versions tells what the client kept from before.
// Subscription changes apply even when the nonce is stale. Removals are sent
// after every type's additions and updates.
import type { DeltaDiscoveryRequest__Output } from '../generated/envoy/service/discovery/v3/DeltaDiscoveryRequest.js';
import type { DeltaDiscoveryResponse } from '../generated/envoy/service/discovery/v3/DeltaDiscoveryResponse.js';
import { PUSH_ORDER, TypeUrl, type TypeUrlValue } from '../proto/root.js';
import { lookup, type Snapshot } from '../snapshot.js';
import { AdsStream, type StreamContext } from './stream.js';
import { Subscription } from './subscription.js';

/** A name the client was told does not exist. */
const MISSING = '';

interface DeltaTypeState {
  sub: Subscription;
  first: boolean;
  /** Version of each resource the client holds (MISSING: told it does not exist). */
  known: Map<string, string>;
  /** Responses awaiting an ACK: nonce → snapshot version. */
  pending: Map<string, string>;
  nacked: boolean;
  /** The snapshot whose resources the client has been sent completely. */
  syncedAt?: string;
  /** Whether anything was sent for this type yet (an empty type is still answered once). */
  answered: boolean;
}

export class DeltaStream extends AdsStream {
  private readonly types = new Map<string, DeltaTypeState>();

  constructor(
    ctx: StreamContext,
    private readonly send: (r: DeltaDiscoveryResponse) => void,
    private readonly fail: (message: string) => void,
  ) {
    super(ctx, 'delta');
  }

  onRequest(req: DeltaDiscoveryRequest__Output): void {
    const problem = this.identify(req.node);
    if (problem) return this.fail(problem);
    const typeUrl = req.type_url ?? '';
    if (!(PUSH_ORDER as readonly string[]).includes(typeUrl)) return;
    let st = this.types.get(typeUrl);
    if (!st) {
      st = {
        sub: new Subscription(),
        first: true,
        known: new Map(),
        pending: new Map(),
        nacked: false,
        answered: false,
      };
      this.types.set(typeUrl, st);
    }
    const nonce = req.response_nonce ?? '';
    if (nonce !== '' && st.pending.has(nonce)) {
      const snapshotVersion = st.pending.get(nonce)!;
      st.pending.delete(nonce);
      if (req.error_detail) {
        st.nacked = true;
        const message = req.error_detail.message ?? '';
        this.ctx.nodes.nacked(this.node!, typeUrl, snapshotVersion, message);
        this.ctx.metrics.nacks.inc({ type_url: typeUrl, node_group: this.nodeGroup! });
        this.ctx.log('warn', 'gateway rejected configuration', {
          node: this.node!.id,
          typeUrl,
          message,
        });
      } else {
        st.nacked = false;
        this.ctx.nodes.acked(this.node!, typeUrl, snapshotVersion, snapshotVersion);
        this.ctx.metrics.acks.inc({ type_url: typeUrl });
      }
    }
    const first = st.first;
    st.first = false;
    if (first) {
      for (const [name, version] of Object.entries(req.initial_resource_versions ?? {})) {
        st.known.set(name, version);
      }
    }
    const { added, removed } = st.sub.update(
      req.resource_names_subscribe ?? [],
      req.resource_names_unsubscribe ?? [],
      first,
    );
    // A name subscribed after the stream started is always sent.
    if (!first) for (const n of added) st.known.delete(n);
    for (const n of removed) st.known.delete(n);
    const snap = this.snapshot();
    // The subscription may have changed: recompute this type in full.
    st.syncedAt = undefined;
    if (snap) {
      this.pushType(typeUrl as TypeUrlValue, st, snap, 'upserts');
      this.pushType(typeUrl as TypeUrlValue, st, snap, 'removals');
      st.syncedAt = snap.version;
    }
    this.updateApplied();
  }

  protected onSnapshot(snap: Snapshot): void {
    // A changed Cluster is warmed again by Envoy and needs its
    // ClusterLoadAssignment again, even an unchanged one.
    const cds = this.types.get(TypeUrl.Cluster);
    const eds = this.types.get(TypeUrl.ClusterLoadAssignment);
    if (cds && eds) {
      for (const r of snap.types.get(TypeUrl.Cluster)!.resources.values()) {
        const held = cds.known.get(r.name);
        if (held !== undefined && held !== r.version) {
          eds.known.delete(r.name);
          eds.syncedAt = undefined;
        }
      }
    }
    for (const t of PUSH_ORDER) {
      const st = this.types.get(t);
      if (st) this.pushType(t, st, snap, 'upserts');
    }
    for (const t of PUSH_ORDER) {
      const st = this.types.get(t);
      if (st) this.pushType(t, st, snap, 'removals');
    }
    for (const t of PUSH_ORDER) {
      const st = this.types.get(t);
      if (st) st.syncedAt = snap.version;
    }
    this.updateApplied();
  }

  private diff(type: TypeUrlValue, st: DeltaTypeState, snap: Snapshot) {
    const ts = snap.types.get(type)!;
    if (st.syncedAt === snap.version) return { upserts: [], removals: [] };
    const since = snap.since;
    if (since && st.syncedAt === since.version) {
      // Only what changed since the snapshot the client is synced to.
      const change = since.types.get(type)!;
      const upserts = [];
      for (const name of change.changed) {
        const r = lookup(ts, name)!;
        const wanted = ts.resources.has(name) ? st.sub.wants(name) : st.sub.names.has(name);
        if (wanted && st.known.get(name) !== r.version) upserts.push(r);
      }
      const removals = [...change.removed]
        .filter((n) => st.known.has(n) && st.known.get(n) !== MISSING)
        .sort();
      return { upserts, removals };
    }
    const upserts = [...ts.resources.values()].filter(
      (r) => st.sub.wants(r.name) && st.known.get(r.name) !== r.version,
    );
    for (const name of st.sub.names) {
      const r = ts.namedOnly.get(name);
      if (r && st.known.get(name) !== r.version) upserts.push(r);
    }
    const removals: string[] = [];
    for (const [name, version] of st.known) {
      if (version !== MISSING && !lookup(ts, name)) removals.push(name);
    }
    for (const name of st.sub.names) {
      if (!lookup(ts, name) && !st.known.has(name)) removals.push(name);
    }
    return { upserts, removals: [...new Set(removals)].sort() };
  }

  private pushType(
    type: TypeUrlValue,
    st: DeltaTypeState,
    snap: Snapshot,
    phase: 'upserts' | 'removals',
  ): void {
    const { upserts, removals } = this.diff(type, st, snap);
    // A wildcard subscription to a type with nothing in it is answered once,
    // empty, so the client knows the type is empty rather than not yet sent.
    const emptyFirstAnswer =
      phase === 'upserts' &&
      !st.answered &&
      st.sub.isWildcard() &&
      st.known.size === 0 &&
      snap.types.get(type)!.resources.size === 0;
    if (phase === 'upserts' ? upserts.length === 0 && !emptyFirstAnswer : removals.length === 0)
      return;
    st.answered = true;
    const nonce = this.nextNonce();
    st.pending.set(nonce, snap.version);
    let bytes = 0;
    const response: DeltaDiscoveryResponse = {
      system_version_info: snap.types.get(type)!.version,
      type_url: type,
      nonce,
      resources: [],
      removed_resources: [],
    };
    if (phase === 'upserts') {
      response.resources = upserts.map((r) => {
        st.known.set(r.name, r.version);
        bytes += r.bytes.length;
        return {
          name: r.name,
          version: r.version,
          resource: {
            type_url: type,
            value: Buffer.from(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength),
          },
        };
      });
    } else {
      response.removed_resources = removals;
      for (const n of removals) {
        if (st.sub.names.has(n)) st.known.set(n, MISSING);
        else st.known.delete(n);
      }
    }
    this.send(response);
    this.ctx.nodes.sent(this.node!, type, snap.types.get(type)!.version);
    this.ctx.metrics.responses.inc({ type_url: type, mode: 'delta' });
    this.ctx.metrics.responseBytes.inc({ type_url: type, mode: 'delta' }, bytes);
  }

  protected typeApplied(type: TypeUrlValue, snap: Snapshot): boolean {
    const st = this.types.get(type);
    if (!st) return snap.types.get(type)!.resources.size === 0;
    if (st.syncedAt === snap.version) return st.pending.size === 0 && !st.nacked;
    const { upserts, removals } = this.diff(type, st, snap);
    return upserts.length === 0 && removals.length === 0 && st.pending.size === 0 && !st.nacked;
  }
}
