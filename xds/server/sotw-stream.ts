// State-of-the-world ADS (StreamAggregatedResources). Per type: the client's
// subscription, the last nonce and version sent. Requests carrying a stale
// nonce are ignored; a NACK (error_detail) is recorded and the refused
// version is not sent again; a response goes out only when what the client
// should hold differs from what it was last sent, or a request is unanswered.
// Cluster removals are sent last: the first CDS response of a push keeps
// clusters that are going away until listeners and routes stop using them.
import type { DiscoveryRequest__Output } from '../generated/envoy/service/discovery/v3/DiscoveryRequest.js';
import type { DiscoveryResponse } from '../generated/envoy/service/discovery/v3/DiscoveryResponse.js';
import { PUSH_ORDER, TypeUrl, type TypeUrlValue } from '../proto/root.js';
import { hash, lookup, type EncodedResource, type Snapshot } from '../snapshot.js';
import { AdsStream, type StreamContext } from './stream.js';
import { Subscription } from './subscription.js';

interface SotwTypeState {
  sub: Subscription;
  nonce?: string;
  /** version_info of the last response sent. */
  sentVersion?: string;
  sentSnapshot?: string;
  /** What the last response carried, by name. */
  sent: Map<string, EncodedResource>;
  ackedNonce?: string;
  nackedNonce?: string;
  /** A request of this type waits for an answer. */
  unanswered: boolean;
}

interface Planned {
  version: string;
  resources: EncodedResource[];
}

export class SotwStream extends AdsStream {
  private readonly types = new Map<string, SotwTypeState>();

  constructor(
    ctx: StreamContext,
    private readonly send: (r: DiscoveryResponse) => void,
    private readonly fail: (message: string) => void,
  ) {
    super(ctx, 'sotw');
  }

  onRequest(req: DiscoveryRequest__Output): void {
    const problem = this.identify(req.node);
    if (problem) return this.fail(problem);
    const typeUrl = req.type_url ?? '';
    if (!(PUSH_ORDER as readonly string[]).includes(typeUrl)) {
      this.ctx.log('debug', 'request for a type gatefleet does not serve', { typeUrl });
      return;
    }
    let st = this.types.get(typeUrl);
    if (!st)
      this.types.set(
        typeUrl,
        (st = { sub: new Subscription(), sent: new Map(), unanswered: false }),
      );
    const nonce = req.response_nonce ?? '';
    if (nonce !== '' && nonce !== st.nonce) return; // stale: superseded by a newer response
    if (nonce !== '') {
      if (req.error_detail) {
        st.nackedNonce = nonce;
        const message = req.error_detail.message ?? '';
        this.ctx.nodes.nacked(this.node!, typeUrl, st.sentSnapshot ?? '', message);
        this.ctx.metrics.nacks.inc({ type_url: typeUrl, node_group: this.nodeGroup! });
        this.ctx.log('warn', 'gateway rejected configuration', {
          node: this.node!.id,
          typeUrl,
          version: st.sentVersion,
          message,
        });
      } else {
        st.ackedNonce = nonce;
        this.ctx.nodes.acked(this.node!, typeUrl, req.version_info ?? '', st.sentSnapshot);
        this.ctx.metrics.acks.inc({ type_url: typeUrl });
      }
    } else {
      st.unanswered = true; // first request of this type on the stream
    }
    const added = st.sub.replace(req.resource_names ?? []);
    if (added.length > 0) st.unanswered = true;
    const snap = this.snapshot();
    if (snap) this.pushType(typeUrl as TypeUrlValue, st, snap, false);
    this.updateApplied();
  }

  protected onSnapshot(snap: Snapshot): void {
    this.rewarmChangedClusters(snap);
    const finals: [TypeUrlValue, SotwTypeState][] = [];
    for (const t of PUSH_ORDER) {
      const st = this.types.get(t);
      if (!st) continue;
      if (this.pushType(t, st, snap, t === TypeUrl.Cluster)) finals.push([t, st]);
    }
    for (const [t, st] of finals) this.pushType(t, st, snap, false);
    this.updateApplied();
  }

  /**
   * A changed Cluster is warmed again by Envoy and becomes usable only when
   * its ClusterLoadAssignment arrives, even an unchanged one: re-send EDS.
   */
  private rewarmChangedClusters(snap: Snapshot): void {
    const cds = this.types.get(TypeUrl.Cluster);
    const eds = this.types.get(TypeUrl.ClusterLoadAssignment);
    if (!cds || !eds) return;
    for (const r of snap.types.get(TypeUrl.Cluster)!.resources.values()) {
      const before = cds.sent.get(r.name);
      if (before && before.version !== r.version && eds.sub.wants(r.name)) eds.unanswered = true;
    }
  }

  /**
   * What the client should hold of `type`, given its subscription. Streams
   * with the same subscription share the plan, computed once per snapshot.
   */
  private plan(type: TypeUrlValue, st: SotwTypeState, snap: Snapshot): Planned | undefined {
    const key = `${type}\n${st.sub.key()}`;
    const plans = (snap.plans ??= new Map());
    if (plans.has(key)) return plans.get(key) as Planned | undefined;
    const p = this.computePlan(type, st, snap);
    plans.set(key, p);
    return p;
  }

  private computePlan(type: TypeUrlValue, st: SotwTypeState, snap: Snapshot): Planned | undefined {
    const ts = snap.types.get(type)!;
    if (st.sub.isWildcard()) return { version: ts.version, resources: [...ts.resources.values()] };
    const resources = [...st.sub.names].sort().flatMap((n) => {
      const r = lookup(ts, n);
      return r ? [r] : [];
    });
    // Named resources that do not exist yet are sent when they appear.
    if (resources.length === 0) return undefined;
    return { version: hash(type, ...resources.flatMap((r) => [r.name, r.version])), resources };
  }

  /**
   * Sends `type` if the client should get something. With `keepRemovals`,
   * resources the client had that are going away stay in this response; the
   * return value says a final response without them is due.
   */
  private pushType(
    type: TypeUrlValue,
    st: SotwTypeState,
    snap: Snapshot,
    keepRemovals: boolean,
  ): boolean {
    const p = this.plan(type, st, snap);
    if (!p) return false;
    let resources = p.resources;
    let version = p.version;
    let removalsDeferred = false;
    if (keepRemovals) {
      const names = new Set(resources.map((r) => r.name));
      const going = [...st.sent.values()].filter((r) => !names.has(r.name));
      if (going.length > 0) {
        resources = [...resources, ...going].sort((a, b) => (a.name < b.name ? -1 : 1));
        version = hash(type, 'transition', ...resources.flatMap((r) => [r.name, r.version]));
        removalsDeferred = true;
      }
    }
    if (!st.unanswered && version === st.sentVersion) return removalsDeferred;
    const nonce = this.nextNonce();
    st.nonce = nonce;
    st.sentVersion = version;
    st.sentSnapshot = snap.version;
    st.sent = new Map(resources.map((r) => [r.name, r]));
    st.unanswered = false;
    let bytes = 0;
    this.send({
      version_info: version,
      type_url: type,
      nonce,
      resources: resources.map((r) => {
        bytes += r.bytes.length;
        return {
          type_url: type,
          value: Buffer.from(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength),
        };
      }),
    });
    this.ctx.nodes.sent(this.node!, type, version);
    this.ctx.metrics.responses.inc({ type_url: type, mode: 'sotw' });
    this.ctx.metrics.responseBytes.inc({ type_url: type, mode: 'sotw' }, bytes);
    return removalsDeferred;
  }

  protected typeApplied(type: TypeUrlValue, snap: Snapshot): boolean {
    const st = this.types.get(type);
    const ts = snap.types.get(type)!;
    if (!st) return ts.resources.size === 0;
    const p = this.plan(type, st, snap);
    if (!p) return true;
    return p.version === st.sentVersion && st.ackedNonce === st.nonce;
  }
}
