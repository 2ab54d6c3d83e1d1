// The snapshot cache: the latest consistent snapshot of every node group.
// Nothing is served before the first complete set is published, so a gateway
// never receives an empty or partial configuration from a controller that is
// still starting. Publishing replaces every group at once and notifies the
// watchers of the groups whose version changed.
import { EventEmitter } from 'node:events';
import { changesBetween, type Snapshot } from './snapshot.js';

const READY = Symbol('ready');

export type SnapshotListener = (snapshot: Snapshot) => void;

export class SnapshotCache {
  private snapshots = new Map<string, Snapshot>();
  private ready = false;
  private readonly events = new EventEmitter();

  constructor() {
    this.events.setMaxListeners(0);
  }

  /** True once the first complete set of snapshots has been published. */
  isReady(): boolean {
    return this.ready;
  }

  get(nodeGroup: string): Snapshot | undefined {
    return this.ready ? this.snapshots.get(nodeGroup) : undefined;
  }

  nodeGroups(): string[] {
    return [...this.snapshots.keys()].sort();
  }

  /**
   * Replaces the whole set. Groups absent from `next` are dropped (their
   * gateways keep their last configuration and get nothing new).
   */
  publish(next: ReadonlyMap<string, Snapshot>): string[] {
    const changed: string[] = [];
    for (const [group, snap] of next) {
      const prev = this.snapshots.get(group);
      if (prev?.version === snap.version) continue;
      changed.push(group);
      if (prev && snap !== prev)
        snap.since = { version: prev.version, types: changesBetween(prev, snap) };
    }
    this.snapshots = new Map(next);
    const first = !this.ready;
    this.ready = true;
    for (const group of first ? [...next.keys()] : changed) {
      this.events.emit(group, this.snapshots.get(group)!);
    }
    if (first) this.events.emit(READY);
    return changed.sort();
  }

  /** Calls `listener` with every new snapshot of `nodeGroup`; returns the unsubscribe function. */
  watch(nodeGroup: string, listener: SnapshotListener): () => void {
    this.events.on(nodeGroup, listener);
    return () => this.events.off(nodeGroup, listener);
  }
}
