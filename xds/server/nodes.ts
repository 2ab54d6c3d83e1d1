// What the server knows about each connected gateway: its node group, and per
// resource type the version last sent, the version it ACKed and its last
// NACK. This is what status and tooling report ("which gateways applied which
// version, and why one refused it"). A node's state goes when its last stream
// closes.

export interface NackRecord {
  /** The version the gateway refused. */
  version: string;
  message: string;
  at: string;
}

export interface TypeState {
  sentVersion?: string;
  ackedVersion?: string;
  /** Snapshot version the last ACKed response was built from. */
  ackedSnapshot?: string;
  lastNack?: NackRecord;
}

export interface NodeState {
  id: string;
  nodeGroup: string;
  /** `sotw` or `delta`. */
  mode: string;
  connectedAt: string;
  streams: number;
  /**
   * The snapshot version the node holds and has ACKed completely, for every
   * type; undefined while it is catching up or after it refused a response.
   */
  appliedVersion?: string;
  types: Record<string, TypeState>;
}

export class NodeRegistry {
  private readonly nodes = new Map<string, NodeState>();
  private readonly listeners = new Set<() => void>();

  connect(id: string, nodeGroup: string, mode: string): NodeState {
    let n = this.nodes.get(id);
    if (!n || n.nodeGroup !== nodeGroup) {
      n = { id, nodeGroup, mode, connectedAt: new Date().toISOString(), streams: 0, types: {} };
      this.nodes.set(id, n);
    }
    n.streams++;
    this.changed();
    return n;
  }

  disconnect(n: NodeState): void {
    n.streams--;
    if (n.streams <= 0 && this.nodes.get(n.id) === n) this.nodes.delete(n.id);
    this.changed();
  }

  type(n: NodeState, typeUrl: string): TypeState {
    return (n.types[typeUrl] ??= {});
  }

  sent(n: NodeState, typeUrl: string, version: string): void {
    this.type(n, typeUrl).sentVersion = version;
  }

  acked(n: NodeState, typeUrl: string, version: string, snapshotVersion: string | undefined): void {
    const t = this.type(n, typeUrl);
    t.ackedVersion = version;
    if (snapshotVersion !== undefined) t.ackedSnapshot = snapshotVersion;
    this.changed();
  }

  nacked(n: NodeState, typeUrl: string, version: string, message: string): void {
    this.type(n, typeUrl).lastNack = { version, message, at: new Date().toISOString() };
    this.changed();
  }

  setApplied(n: NodeState, version: string | undefined): void {
    if (n.appliedVersion === version) return;
    if (version === undefined) delete n.appliedVersion;
    else n.appliedVersion = version;
    this.changed();
  }

  /** Every connected node, sorted by node group then id. */
  list(): NodeState[] {
    return [...this.nodes.values()].sort((a, b) =>
      a.nodeGroup === b.nodeGroup ? (a.id < b.id ? -1 : 1) : a.nodeGroup < b.nodeGroup ? -1 : 1,
    );
  }

  get(id: string): NodeState | undefined {
    return this.nodes.get(id);
  }

  /** Called after any ACK, NACK, connect or disconnect (for status recomputation). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }
}
