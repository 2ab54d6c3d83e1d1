// Resolves HTTPRoute backendRefs (and mirror targets) to Service ports.
// An unresolvable reference is not a reason to reject the route: its share of
// traffic is answered with 500 and the route's ResolvedRefs condition says why.
import type { Service, ServicePort } from '../../apis/types.js';
import { GATEWAY_GROUP } from '../../apis/types.js';
import type { Cluster } from '../../ir/types.js';
import { key } from '../input.js';
import { Reason } from '../reasons.js';
import type { RefFrom, RefTo } from '../refgrants.js';
import { problem, type Problem } from './problems.js';

export interface BackendObjectRef {
  group?: string;
  kind?: string;
  name: string;
  namespace?: string;
  port?: number;
}

/** A resolved Service port: what a cluster is made from. */
export type ClusterSpec = Omit<Cluster, 'endpoints'>;

/** Whether a ReferenceGrant allows a cross-namespace reference (ReferenceGrants implements it). */
export interface GrantCheck {
  allowed(from: RefFrom, to: RefTo): boolean;
}

/** What resolving backends may look up; TranslationMemo records each lookup. */
export interface BackendContext {
  services: { get(key: string): Service | undefined };
  grants: GrantCheck;
}

/** appProtocol values gatefleet can speak to, per KEP-3726 and common usage. */
const APP_PROTOCOLS: Record<string, Cluster['protocol']> = {
  http: 'http1',
  // HTTP/1.1 over TLS: the TLS itself comes from a BackendTLSPolicy on the port.
  https: 'http1',
  'kubernetes.io/h2c': 'h2c',
  'kubernetes.io/ws': 'websocket',
};

export function clusterName(namespace: string, service: string, port: number): string {
  return `${namespace}/${service}/${port}`;
}

export function resolveBackend(
  ref: BackendObjectRef,
  routeNamespace: string,
  ctx: BackendContext,
  where: string,
): ClusterSpec | Problem {
  const group = ref.group ?? '';
  const kind = ref.kind ?? 'Service';
  const ns = ref.namespace ?? routeNamespace;
  // Named only in problems: built when one is reported.
  const id = () => `${where} ${group === '' ? '' : `${group}/`}${kind} ${ns}/${ref.name}`;
  if (group !== '' || kind !== 'Service') {
    return problem(Reason.InvalidKind, `${id()}: only core Services are supported as backends`);
  }
  const allowed = ctx.grants.allowed(
    { group: GATEWAY_GROUP, kind: 'HTTPRoute', namespace: routeNamespace },
    { group: '', kind: 'Service', namespace: ns, name: ref.name },
  );
  if (!allowed) {
    return problem(
      Reason.RefNotPermitted,
      `${id()}: no ReferenceGrant in namespace ${ns} allows HTTPRoutes from ${routeNamespace} to reference it`,
    );
  }
  const svc = ctx.services.get(key(ns, ref.name));
  if (!svc) return problem(Reason.BackendNotFound, `${id()}: Service not found`);
  if (svc.spec?.type === 'ExternalName') {
    return problem(Reason.BackendNotFound, `${id()}: ExternalName Services are not supported`);
  }
  if (ref.port === undefined) {
    return problem(Reason.BackendNotFound, `${id()}: port is required for a Service backend`);
  }
  const port: ServicePort | undefined = (svc.spec?.ports ?? []).find((p) => p.port === ref.port);
  if (!port) return problem(Reason.BackendNotFound, `${id()}: Service has no port ${ref.port}`);
  if ((port.protocol ?? 'TCP') !== 'TCP') {
    return problem(
      Reason.UnsupportedProtocol,
      `${id()}: port ${ref.port} uses protocol ${port.protocol}; HTTP needs TCP`,
    );
  }
  const protocol =
    port.appProtocol === undefined ? 'http1' : APP_PROTOCOLS[port.appProtocol.toLowerCase()];
  if (!protocol) {
    return problem(
      Reason.UnsupportedProtocol,
      `${id()}: appProtocol ${port.appProtocol} is not supported (use http, kubernetes.io/h2c or kubernetes.io/ws)`,
    );
  }
  return {
    name: clusterName(ns, ref.name, ref.port),
    service: { namespace: ns, name: ref.name, port: ref.port },
    protocol,
  };
}
