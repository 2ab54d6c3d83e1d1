// Configurations for the gateway lifecycle tests: one Gateway with an HTTP
// listener and a route to an echo backend, plus optional extra routes and
// listeners, and readers for the xDS server's state about a gateway.
import type { XdsServer } from '../../xds/server/ads-server.js';
import type { NodeState } from '../../xds/server/nodes.js';
import { gateway, gatewayClass, httpListener, route, service } from './k8s.js';

type Obj = Record<string, unknown>;

export interface AppConfig {
  /** Gateway name (its fleet is `default/<name>`). */
  name: string;
  port: number;
  backendPort: number;
  /** Extra path prefixes routed to backend `svc-<name>-b` on `bBackendPort`. */
  extraPrefixes?: string[];
  bBackendPort?: number;
  /** More listeners on the Gateway. */
  extraListeners?: Obj[];
  /** More objects (Secrets, ...). */
  extra?: Obj[];
}

export const HOST = 'app.example.com';

export function appObjects(c: AppConfig): Obj[] {
  const objs: Obj[] = [
    gatewayClass(),
    gateway(c.name, [httpListener(c.port), ...(c.extraListeners ?? [])]),
    route(`${c.name}-main`, {
      parentRefs: [{ name: c.name }],
      hostnames: [HOST],
      rules: [{ backendRefs: [{ name: `svc-${c.name}`, port: 80 }] }],
    }),
    ...service(`svc-${c.name}`, [c.backendPort]),
    ...(c.extra ?? []),
  ];
  if (c.extraPrefixes?.length) {
    objs.push(
      route(`${c.name}-extra`, {
        parentRefs: [{ name: c.name }],
        hostnames: [HOST],
        rules: c.extraPrefixes.map((p) => ({
          matches: [{ path: { type: 'PathPrefix', value: p } }],
          backendRefs: [{ name: `svc-${c.name}-b`, port: 80 }],
        })),
      }),
      ...service(`svc-${c.name}-b`, [c.bBackendPort ?? c.backendPort]),
    );
  }
  return objs;
}

/** The node's state on the server, once it has applied `version` completely. */
export function appliedNode(
  server: XdsServer,
  nodeId: string,
  version: string | undefined,
): NodeState | undefined {
  const n = server.nodes.get(nodeId);
  return n && version !== undefined && n.appliedVersion === version ? n : undefined;
}

/** Responses the server pushed, per short type name (e.g. `Listener`), from its metrics. */
/** Resource bytes the server sent, by type (types with none are left out). */
export async function resourceBytesByType(server: XdsServer): Promise<Record<string, number>> {
  const m = await server.metrics.responseBytes.get();
  const out: Record<string, number> = {};
  for (const v of m.values) {
    if (v.value === 0) continue;
    const t = String(v.labels.type_url).split('.').pop()!;
    out[t] = (out[t] ?? 0) + v.value;
  }
  return out;
}

export async function responsesByType(server: XdsServer): Promise<Record<string, number>> {
  const m = await server.metrics.responses.get();
  const out: Record<string, number> = {};
  for (const v of m.values) {
    const t = String(v.labels.type_url).split('.').pop()!;
    out[t] = (out[t] ?? 0) + v.value;
  }
  return out;
}
