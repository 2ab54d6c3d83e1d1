// IR → snapshots: builds every node group's resources, checks their
// consistency and encodes them. A group whose resources are inconsistent is
// not published; its gateways keep the group's previous snapshot.
import type { IR } from '../controller/ir/types.js';
import type { SnapshotCache } from './cache.js';
import { checkConsistency } from './consistency.js';
import { buildNodeGroupResources, type ResourcesByType } from './resources/index.js';
import { buildSnapshot, EncodeMemo, type Snapshot } from './snapshot.js';

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

/**
 * Publishes the IR's node groups. A group whose IR object did not change
 * keeps its snapshot (nothing is rebuilt or encoded); in a changed group
 * only the resources that changed are encoded again; a group rebuilt to the
 * same configuration keeps its snapshot too.
 */
export function publishIR(ir: IR, cache: SnapshotCache): PublishResult {
  const next = new Map<string, Snapshot>();
  const rejected: PublishResult['rejected'] = [];
  for (const fleet of ir.fleets) {
    for (const group of fleet.nodeGroups) {
      // IR is immutable and a translator with a memo keeps an unchanged node
      // group's object (controller/translator/memo.ts): the same object with
      // the same addresses is the same configuration, found without reading it.
      const addresses = JSON.stringify(fleet.infrastructure.addresses);
      const previous = cache.get(group.name);
      if (previous?.source?.group === group && previous.source.addresses === addresses) {
        next.set(group.name, previous);
        continue;
      }
      const resources = buildNodeGroupResources(fleet, group);
      const problems = checkConsistency(resources);
      if (problems.length > 0) {
        rejected.push({ nodeGroup: group.name, problems });
        if (previous) next.set(group.name, previous);
        continue;
      }
      const snap = buildSnapshot(group.name, resources, new EncodeMemo(previous?.memo));
      if (previous && snap.version === previous.version) {
        // New objects, same configuration (IR from a translation without a memo).
        previous.source = { group, addresses };
        next.set(group.name, previous);
        continue;
      }
      snap.source = { group, addresses };
      next.set(group.name, snap);
    }
  }
  return { changed: cache.publish(next), rejected };
}
