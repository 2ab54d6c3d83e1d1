// One node group's IR → its Envoy resources, by type, sorted by name.
import type { Fleet, NodeGroup } from '../../controller/ir/types.js';
import { TypeUrl, type TypeUrlValue } from '../proto/root.js';
import { buildCluster, buildLoadAssignment } from './clusters.js';
import { buildApiListeners, buildListener } from './listeners.js';
import { buildRouteConfiguration } from './routes.js';
import { buildSecret } from './secrets.js';

export interface NamedResource {
  name: string;
  /** The resource as a protobufjs-ready object (snake_case fields, `@type` Anys). */
  resource: Record<string, unknown>;
  /** Served only to clients that ask for it by name, never to wildcard subscriptions. */
  namedOnly?: boolean;
}

export type ResourcesByType = Map<TypeUrlValue, NamedResource[]>;

function byName(a: NamedResource, b: NamedResource): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

export function buildNodeGroupResources(fleet: Fleet, group: NodeGroup): ResourcesByType {
  const protocols = new Map(group.clusters.map((c) => [c.name, c.protocol]));
  const out: ResourcesByType = new Map();
  out.set(
    TypeUrl.Cluster,
    group.clusters.map((c) => ({ name: c.name, resource: buildCluster(c) })).sort(byName),
  );
  out.set(
    TypeUrl.ClusterLoadAssignment,
    group.clusters.map((c) => ({ name: c.name, resource: buildLoadAssignment(c) })).sort(byName),
  );
  out.set(
    TypeUrl.Secret,
    group.secrets.map((s) => ({ name: s.name, resource: buildSecret(s) })).sort(byName),
  );
  out.set(
    TypeUrl.Listener,
    [
      ...group.listeners.map((l) => ({
        name: l.name,
        resource: buildListener(l, fleet.infrastructure.addresses),
      })),
      ...buildApiListeners(group.listeners),
    ].sort(byName),
  );
  out.set(
    TypeUrl.RouteConfiguration,
    group.listeners
      .flatMap((l) => l.filterChains)
      .map((fc) => ({
        name: fc.name,
        resource: buildRouteConfiguration(fc, (c) => protocols.get(c)),
      }))
      .sort(byName),
  );
  return out;
}
