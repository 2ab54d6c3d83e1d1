// IR → snapshots: builds every node group's resources, checks their
// consistency and encodes them. A group whose resources are inconsistent is
// not published; its gateways keep the group's previous snapshot.
import type { IR } from '../controller/ir/types.js';
import type { SnapshotCache } from './cache.js';
import { checkConsistency } from './consistency.js';
import { buildNodeGroupResources, type ResourcesByType } from './resources/index.js';
import { buildSnapshot, type Snapshot } from './snapshot.js';

export interface NodeGroupResources {
  fleet: string;
  nodeGroup: string;
  resources: ResourcesByType;
}

/** Every node group's Envoy resources, sorted by node group. */
export function irToResources(ir: IR): NodeGroupResources[] {
  const out: NodeGroupResources[] = [];
  for (const fleet of ir.fleets) {
    for (const group of fleet.nodeGroups) {
      out.push({
        fleet: fleet.name,
        nodeGroup: group.name,
        resources: buildNodeGroupResources(fleet, group),
      });
    }
  }
  return out.sort((a, b) => (a.nodeGroup < b.nodeGroup ? -1 : a.nodeGroup > b.nodeGroup ? 1 : 0));
}

export interface PublishResult {
  /** Node groups whose snapshot version changed. */
  changed: string[];
  /** Node groups kept at their previous snapshot, with why. */
  rejected: { nodeGroup: string; problems: string[] }[];
}

export function publishIR(ir: IR, cache: SnapshotCache): PublishResult {
  const next = new Map<string, Snapshot>();
  const rejected: PublishResult['rejected'] = [];
  for (const g of irToResources(ir)) {
    const problems = checkConsistency(g.resources);
    if (problems.length > 0) {
      rejected.push({ nodeGroup: g.nodeGroup, problems });
      const previous = cache.get(g.nodeGroup);
      if (previous) next.set(g.nodeGroup, previous);
      continue;
    }
    next.set(g.nodeGroup, buildSnapshot(g.nodeGroup, g.resources));
  }
  return { changed: cache.publish(next), rejected };
}
