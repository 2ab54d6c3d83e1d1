// What state-of-the-world and incremental ADS streams share: the node and
// its group, the snapshot watch, nonces, and the "applied" bookkeeping that
// tells status which configuration version each gateway runs.
import type { SnapshotCache } from '../cache.js';
import { PUSH_ORDER, type TypeUrlValue } from '../proto/root.js';
import type { Snapshot } from '../snapshot.js';
import type { XdsMetrics } from './metrics.js';
import type { NodeRegistry, NodeState } from './nodes.js';

export interface StreamContext {
  cache: SnapshotCache;
  nodes: NodeRegistry;
  metrics: XdsMetrics;
  log: (level: 'info' | 'warn' | 'debug', msg: string, fields?: Record<string, unknown>) => void;
}

export interface NodeInfo {
  id?: string;
  cluster?: string;
}

let streamCounter = 0;

export abstract class AdsStream {
  protected node?: NodeState;
  protected nodeGroup?: string;
  private unwatch?: () => void;
  private nonceCounter = 0;
  readonly streamId = ++streamCounter;
  private closed = false;

  constructor(
    protected readonly ctx: StreamContext,
    readonly mode: 'sotw' | 'delta',
  ) {}

  /** Records the node from the first request; returns an error message when it cannot be served. */
  protected identify(node: NodeInfo | null | undefined): string | undefined {
    if (this.node) return undefined;
    if (!node?.id) return 'the first request of a stream must carry node.id';
    if (!node.cluster) return `node ${node.id}: node.cluster must name the gateway's node group`;
    this.nodeGroup = node.cluster;
    this.node = this.ctx.nodes.connect(node.id, node.cluster, this.mode);
    this.ctx.metrics.connectedNodes.inc({ node_group: node.cluster });
    this.unwatch = this.ctx.cache.watch(node.cluster, (snap) => this.onSnapshot(snap));
    this.ctx.log('info', 'gateway connected', {
      node: node.id,
      nodeGroup: node.cluster,
      mode: this.mode,
      stream: this.streamId,
    });
    return undefined;
  }

  protected nextNonce(): string {
    return `${this.streamId}.${++this.nonceCounter}`;
  }

  protected snapshot(): Snapshot | undefined {
    return this.nodeGroup === undefined ? undefined : this.ctx.cache.get(this.nodeGroup);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unwatch?.();
    if (this.node) {
      this.ctx.metrics.connectedNodes.dec({ node_group: this.node.nodeGroup });
      this.ctx.nodes.disconnect(this.node);
      this.ctx.log('info', 'gateway disconnected', { node: this.node.id, stream: this.streamId });
    }
  }

  isClosed(): boolean {
    return this.closed;
  }

  /** A new snapshot for this stream's group: push what changed, in order. */
  protected abstract onSnapshot(snapshot: Snapshot): void;

  /** True when the client holds, and has ACKed, everything the snapshot has for `type`. */
  protected abstract typeApplied(type: TypeUrlValue, snapshot: Snapshot): boolean;

  /** Re-evaluates whether the node runs the current snapshot completely. */
  protected updateApplied(): void {
    const snap = this.snapshot();
    if (!this.node || !snap) return;
    const applied = PUSH_ORDER.every((t) => this.typeApplied(t, snap));
    this.ctx.nodes.setApplied(this.node, applied ? snap.version : undefined);
  }
}
