// Resolves a Service port to endpoints through the Service's EndpointSlices:
// ready endpoints take traffic; serving-but-terminating endpoints are kept as
// a fallback for when nothing is ready; the rest are left out. A cluster
// without ready endpoints is how the IR says "answer 503".
import type { EndpointSlice, Service } from '../apis/types.js';
import type { Cluster, Endpoint } from '../ir/types.js';
import type { ClusterSpec } from './routes/backends.js';
import { sortInPlace } from './sort.js';

export function resolveCluster(
  spec: ClusterSpec,
  service: Service | undefined,
  slices: readonly EndpointSlice[],
): Cluster {
  const servicePort = service?.spec?.ports?.find((p) => p.port === spec.service.port);
  const portName = servicePort?.name ?? '';
  const endpoints: Endpoint[] = [];
  // Index of each address:port in `endpoints`, only needed with several slices.
  const index = slices.length > 1 ? new Map<string, number>() : undefined;
  for (const slice of slices) {
    if (
      slice.addressType !== undefined &&
      slice.addressType !== 'IPv4' &&
      slice.addressType !== 'IPv6'
    )
      continue;
    const port = (slice.ports ?? []).find((p) => (p.name ?? '') === portName)?.port;
    if (typeof port !== 'number') continue;
    for (const ep of slice.endpoints ?? []) {
      const address = ep.addresses?.[0];
      if (typeof address !== 'string') continue;
      const ready = ep.conditions?.ready ?? true;
      const serving = ep.conditions?.serving ?? ready;
      const terminating = ep.conditions?.terminating ?? false;
      const state = ready ? 'ready' : serving && terminating ? 'terminating' : undefined;
      if (!state) continue;
      const id = `${address}|${port}`;
      const at = index
        ? index.get(id)
        : endpoints.findIndex((e) => e.address === address && e.port === port);
      if (at === undefined || at === -1) {
        index?.set(id, endpoints.length);
        endpoints.push({ address, port, state });
      } else if (state === 'ready') {
        endpoints[at] = { address, port, state };
      }
    }
  }
  sortInPlace(endpoints, compareEndpoints);
  return { name: spec.name, service: spec.service, protocol: spec.protocol, endpoints };
}

function compareEndpoints(a: Endpoint, b: Endpoint): number {
  return a.address < b.address ? -1 : a.address > b.address ? 1 : a.port - b.port;
}
