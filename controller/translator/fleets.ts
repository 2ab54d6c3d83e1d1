// IR assembly: one fleet per accepted Gateway, with one node group holding the
// listeners (grouped by port), the clusters its routes use and the TLS secrets
// its HTTPS listeners present.
import type { EndpointSlice, Namespace, Service } from '../apis/types.js';
import type {
  Cluster,
  Fleet,
  FleetAddress,
  FleetDeployment,
  Listener,
  NodeGroup,
  TlsSecret,
} from '../ir/types.js';
import { fleetClientCertificate } from './backend-client-cert.js';
import type { BackendTlsIndex } from './backend-tls.js';
import type { TranslationMemo } from './memo.js';
import type { GatewayState } from './gateways.js';
import { isProgrammable, type ListenerState } from './listeners.js';
import type { ClusterSpec } from './routes/backends.js';
import type { RouteAnalysis } from './routes/rules.js';
import { onShard, shardNodeGroup } from './shards.js';
import { buildPortListener, type AttachedEntry } from './virtualhosts.js';

export interface FleetInputs {
  entriesOf: (l: ListenerState) => readonly AttachedEntry[];
  clusterSpecs: ReadonlyMap<string, ClusterSpec>;
  services: ReadonlyMap<string, Service>;
  endpointSlices: ReadonlyMap<string, EndpointSlice[]>;
  namespaces: ReadonlyMap<string, Namespace>;
  /** The BackendTLSPolicies' outcome per Service port. */
  backendTls: BackendTlsIndex;
  /** Clusters and IR reused from the previous translation (and within this one). */
  memo: TranslationMemo;
  /** Presented on the fleet's TLS clusters (set by buildFleet: see fleetClientCertificate). */
  clientCertificate?: TlsSecret;
}

function sortedRecord(r: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(r).sort()) out[k] = r[k]!;
  return out;
}

/**
 * One fleet from the Gateways that run on it (one, or several merged). Its
 * deployment parameters and shards come from the first Gateway in name
 * order; labels, annotations and addresses are the union over its Gateways.
 * Its client certificate towards TLS backends is that of the first Gateway
 * in name order with a valid one.
 */
export function buildFleet(
  name: string,
  members: readonly GatewayState[],
  inputs: FleetInputs,
): Fleet {
  const sorted = [...members].sort((a, b) => (a.key < b.key ? -1 : 1));
  const lead = sorted[0]!;
  const labels: Record<string, string> = {};
  const annotations: Record<string, string> = {};
  const addresses = new Map<string, FleetAddress>();
  for (const g of [...sorted].reverse()) {
    Object.assign(labels, g.gateway.spec.infrastructure?.labels ?? {});
    Object.assign(annotations, g.gateway.spec.infrastructure?.annotations ?? {});
  }
  for (const g of sorted) for (const a of g.addresses) addresses.set(a.value, a);
  const p = lead.params;
  const deployment: FleetDeployment = {
    // Never fewer instances than autoscaling's lower bound.
    replicas: Math.max(p.replicas ?? 1, p.minReplicas ?? 0),
    serviceType: p.serviceType ?? 'LoadBalancer',
    dataPlane: p.dataPlane ?? 'gatefleet',
    ...(p.minReplicas === undefined ? {} : { minReplicas: p.minReplicas }),
    ...(p.maxReplicas === undefined ? {} : { maxReplicas: p.maxReplicas }),
    ...(p.image === undefined ? {} : { image: p.image }),
  };
  const listeners = sorted.flatMap((g) => g.listeners);
  const clientCertificate = fleetClientCertificate(sorted);
  if (clientCertificate) inputs = { ...inputs, clientCertificate };
  const shards = p.shards ?? [];
  const nodeGroups =
    shards.length === 0
      ? [buildNodeGroup(name, deployment.replicas, listeners, inputs)]
      : shards.map((shard) => {
          const onThisShard = new Map<RouteAnalysis, boolean>();
          const shardInputs: FleetInputs = {
            ...inputs,
            entriesOf: (l) =>
              inputs.entriesOf(l).filter((e) => {
                let on = onThisShard.get(e.analysis);
                if (on === undefined)
                  onThisShard.set(e.analysis, (on = onShard(shard, e.analysis, inputs.namespaces)));
                return on;
              }),
          };
          const group = buildNodeGroup(
            shardNodeGroup(name, shard.name),
            shard.replicas ?? deployment.replicas,
            listeners,
            shardInputs,
          );
          group.shard = shard.name;
          return group;
        });
  return {
    name,
    gateways: sorted.map((g) => ({
      namespace: g.gateway.metadata.namespace ?? 'default',
      name: g.gateway.metadata.name,
    })),
    infrastructure: {
      labels: sortedRecord(labels),
      annotations: sortedRecord(annotations),
      addresses: [...addresses.values()],
    },
    deployment,
    nodeGroups,
  };
}

export function buildNodeGroup(
  name: string,
  replicas: number,
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
    irListeners.push(
      buildPortListener({ port, protocol }, programmable, peers, inputs.entriesOf, {
        memo: inputs.memo,
        scope: name,
      }),
    );
    for (const l of programmable) for (const c of l.certificates) secrets.set(c.name, c);
  }
  const memo = inputs.memo;
  const clusterNames = new Set<string>();
  const listenersOut = irListeners.map((l) => {
    const filterChains = l.filterChains.map((fc) => {
      for (const vh of fc.virtualHosts) for (const c of memo.clustersOf(vh)) clusterNames.add(c);
      return memo.filterChain(name, fc);
    });
    return memo.listener(name, { ...l, filterChains });
  });
  const clusters = [...clusterNames].sort().map((n) => clusterFor(n, inputs));
  // The client certificate is sent over SDS like a listener's, only when a TLS cluster uses it.
  const client = inputs.clientCertificate;
  if (client && clusters.some((c) => c.tls?.clientCertificate === client.name))
    secrets.set(client.name, client);
  return memo.nodeGroup({
    name,
    replicas,
    listeners: listenersOut,
    clusters,
    secrets: [...secrets.values()].sort((a, b) => (a.name < b.name ? -1 : 1)),
  });
}

function clusterFor(name: string, inputs: FleetInputs): Cluster {
  return inputs.memo.cluster(
    inputs.clusterSpecs.get(name)!,
    inputs.services,
    inputs.endpointSlices,
    inputs.backendTls,
    inputs.clientCertificate?.name,
  );
}
