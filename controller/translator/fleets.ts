// IR assembly: one fleet per accepted Gateway, with one node group holding the
// listeners (grouped by port), the clusters its routes use and the TLS secrets
// its HTTPS listeners present.
import type { EndpointSlice, Service } from '../apis/types.js';
import type { Cluster, Fleet, Listener, NodeGroup, TlsSecret } from '../ir/types.js';
import { resolveCluster } from './endpoints.js';
import type { GatewayState } from './gateways.js';
import { isProgrammable, type ListenerState } from './listeners.js';
import type { ClusterSpec } from './routes/backends.js';
import { buildPortListener, type AttachedEntry } from './virtualhosts.js';

export interface FleetInputs {
  entriesOf: (l: ListenerState) => readonly AttachedEntry[];
  clusterSpecs: ReadonlyMap<string, ClusterSpec>;
  services: ReadonlyMap<string, Service>;
  endpointSlices: ReadonlyMap<string, EndpointSlice[]>;
  /** Clusters resolved once per translation, shared by every node group. */
  clusterCache: Map<string, Cluster>;
}

function sortedRecord(r: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(r ?? {}).sort()) out[k] = r![k]!;
  return out;
}

export function buildFleet(g: GatewayState, inputs: FleetInputs): Fleet {
  const infra = g.gateway.spec.infrastructure;
  return {
    name: g.key,
    gateways: [
      { namespace: g.gateway.metadata.namespace ?? 'default', name: g.gateway.metadata.name },
    ],
    infrastructure: {
      labels: sortedRecord(infra?.labels),
      annotations: sortedRecord(infra?.annotations),
      addresses: g.addresses,
    },
    nodeGroups: [buildNodeGroup(g.key, g.listeners, inputs)],
  };
}

export function buildNodeGroup(
  name: string,
  listeners: readonly ListenerState[],
  inputs: FleetInputs,
): NodeGroup {
  const accepted = listeners.filter((l) => !l.rejected && !l.conflict);
  const ports = [...new Set(accepted.map((l) => l.port))].sort((a, b) => a - b);
  const irListeners: Listener[] = [];
  const secrets = new Map<string, TlsSecret>();
  for (const port of ports) {
    const peers = accepted.filter((l) => l.port === port);
    const programmable = peers.filter(isProgrammable);
    if (programmable.length === 0) continue;
    const protocol = programmable[0]!.protocol as 'HTTP' | 'HTTPS';
    irListeners.push(buildPortListener({ port, protocol }, programmable, peers, inputs.entriesOf));
    for (const l of programmable) for (const c of l.certificates) secrets.set(c.name, c);
  }
  const clusterNames = new Set<string>();
  for (const l of irListeners)
    for (const fc of l.filterChains)
      for (const vh of fc.virtualHosts)
        for (const r of vh.routes) {
          if (r.action.type !== 'Forward') continue;
          for (const b of r.action.backends) if (b.cluster) clusterNames.add(b.cluster);
          for (const m of r.action.mirrors) clusterNames.add(m.cluster);
        }
  const clusters = [...clusterNames].sort().map((n) => clusterFor(n, inputs));
  return {
    name,
    listeners: irListeners,
    clusters,
    secrets: [...secrets.values()].sort((a, b) => (a.name < b.name ? -1 : 1)),
  };
}

function clusterFor(name: string, inputs: FleetInputs): Cluster {
  const cached = inputs.clusterCache.get(name);
  if (cached) return cached;
  const spec = inputs.clusterSpecs.get(name)!;
  const svcKey = `${spec.service.namespace}/${spec.service.name}`;
  const cluster = resolveCluster(
    spec,
    inputs.services.get(svcKey),
    inputs.endpointSlices.get(svcKey) ?? [],
  );
  inputs.clusterCache.set(name, cluster);
  return cluster;
}
