// Shard membership: a sharded fleet's shard receives the HTTPRoutes its
// selectors pick (route labels and the route's Namespace labels; an absent
// selector picks everything). A route may be on several shards, or on none.
import type { Namespace, ShardSpec } from '../apis/types.js';
import { namespaceLabels } from './routes/parents.js';
import type { RouteAnalysis } from './routes/rules.js';
import { selectorMatches, type LabelSelector } from './selectors.js';

/** Node group name of a shard. `#` appears in no Kubernetes name, so names never collide. */
export function shardNodeGroup(fleet: string, shard: string): string {
  return `${fleet}#${shard}`;
}

export function onShard(
  shard: ShardSpec,
  route: RouteAnalysis,
  namespaces: ReadonlyMap<string, Namespace>,
): boolean {
  return (
    selectorMatches(
      shard.routeSelector as LabelSelector | undefined,
      route.route.metadata.labels ?? {},
    ) &&
    selectorMatches(
      shard.namespaceSelector as LabelSelector | undefined,
      namespaceLabels(namespaces, route.namespace),
    )
  );
}

/** The shards of `shards` a route is on, in declaration order. */
export function shardsOf(
  shards: readonly ShardSpec[],
  route: RouteAnalysis,
  namespaces: ReadonlyMap<string, Namespace>,
): string[] {
  return shards.filter((s) => onShard(s, route, namespaces)).map((s) => s.name);
}
