// What the status writer writes, decided without I/O: which kinds have a
// status it owns and where that status lives (a table, so a kind is a row),
// how a desired status combines with the object as it is (HTTPRoute parent
// entries of other controllers are theirs), and the JSON patch that turns the
// live status into the target — or nothing when they are equal.
import jsonPatch, { type Operation } from 'fast-json-patch';
import type {
  BackendTLSPolicyStatus,
  HTTPRouteStatus,
  PolicyAncestorStatus,
  RouteParentStatus,
} from '../apis/types.js';
import type { KubeObject } from '../providers/kube/kinds.js';

const { compare } = jsonPatch;

const GATEWAY_GROUP = 'gateway.networking.k8s.io';

export interface StatusKind {
  kind: string;
  group: string;
  version: string;
  plural: string;
  namespaced: boolean;
  /**
   * How the desired status meets the live one. `replace`: the whole status is
   * ours. `routeParents`: only the parent entries whose controllerName is ours
   * are; every other entry is taken from the live object, in place.
   * `policyAncestors`: the same for a policy's ancestor entries.
   */
  merge: 'replace' | 'routeParents' | 'policyAncestors';
  /**
   * Queue order within one desired set, lowest first. Routes go before the
   * Gateways that count them: a Gateway's attachedRoutes never runs ahead of
   * the routes' own status, and a Gateway still queued when the next
   * translation arrives is written once, with the newer count.
   */
  order: number;
}

const ROWS: readonly StatusKind[] = [
  {
    kind: 'GatewayClass',
    group: GATEWAY_GROUP,
    version: 'v1',
    plural: 'gatewayclasses',
    namespaced: false,
    merge: 'replace',
    order: 2,
  },
  {
    kind: 'Gateway',
    group: GATEWAY_GROUP,
    version: 'v1',
    plural: 'gateways',
    namespaced: true,
    merge: 'replace',
    order: 1,
  },
  {
    kind: 'HTTPRoute',
    group: GATEWAY_GROUP,
    version: 'v1',
    plural: 'httproutes',
    namespaced: true,
    merge: 'routeParents',
    order: 0,
  },
  {
    kind: 'FleetConfig',
    group: 'gatefleet.io',
    version: 'v1alpha1',
    plural: 'fleetconfigs',
    namespaced: true,
    merge: 'replace',
    order: 1,
  },
  {
    kind: 'BackendTLSPolicy',
    group: GATEWAY_GROUP,
    version: 'v1',
    plural: 'backendtlspolicies',
    namespaced: true,
    merge: 'policyAncestors',
    order: 0,
  },
];

export const STATUS_KINDS: ReadonlyMap<string, StatusKind> = new Map(ROWS.map((r) => [r.kind, r]));

/** One object's desired status (the translator's StatusUpdate is one). */
export interface DesiredStatus {
  kind: string;
  namespace?: string;
  name: string;
  status: unknown;
}

export function statusKey(kind: string, namespace: string | undefined, name: string): string {
  return `${kind}/${namespace ?? ''}/${name}`;
}

/** The object's path; with `/status` appended, its status subresource. */
export function objectPath(k: StatusKind, namespace: string | undefined, name: string): string {
  const ns = k.namespaced ? `/namespaces/${encodeURIComponent(namespace ?? 'default')}` : '';
  return `/apis/${k.group}/${k.version}${ns}/${k.plural}/${encodeURIComponent(name)}`;
}

/** A parent reference with the API's defaults applied: equal references give equal ids. */
export function parentRefId(ref: RouteParentStatus['parentRef'], routeNamespace: string): string {
  return [
    ref.group ?? GATEWAY_GROUP,
    ref.kind ?? 'Gateway',
    ref.namespace ?? routeNamespace,
    ref.name,
    ref.sectionName ?? '',
    ref.port ?? '',
  ].join('/');
}

export function hasOurParents(status: unknown, controllerName: string): boolean {
  const parents = (status as HTTPRouteStatus | undefined)?.parents;
  return Array.isArray(parents) && parents.some((p) => p.controllerName === controllerName);
}

/**
 * The HTTPRoute status to write: the live parent entries with ours replaced
 * in place by the desired ones (same parentRef), ours that are no longer
 * desired removed, new ones appended in the desired order, and every other
 * controller's entry untouched. Foreign entries in `desired` (the
 * translator's possibly stale copies) are ignored. Keeping positions means
 * two controllers sharing a route never reorder each other's entries back and
 * forth.
 */
export function mergeRouteParents(
  desired: HTTPRouteStatus | undefined,
  live: HTTPRouteStatus | undefined,
  controllerName: string,
  routeNamespace: string,
): HTTPRouteStatus {
  const ours = new Map<string, RouteParentStatus>();
  for (const p of desired?.parents ?? []) {
    if (p.controllerName !== controllerName) continue;
    const id = parentRefId(p.parentRef, routeNamespace);
    if (!ours.has(id)) ours.set(id, p);
  }
  const parents: RouteParentStatus[] = [];
  for (const p of live?.parents ?? []) {
    if (p.controllerName !== controllerName) {
      parents.push(p);
      continue;
    }
    const id = parentRefId(p.parentRef, routeNamespace);
    const replacement = ours.get(id);
    if (replacement) {
      parents.push(replacement);
      ours.delete(id);
    }
  }
  for (const p of ours.values()) parents.push(p);
  return { ...(desired ?? {}), parents };
}

/**
 * A policy status to write: like mergeRouteParents, our ancestor entries
 * replace ours in place, ours no longer desired go, new ones are appended,
 * and every other controller's entry is kept untouched.
 */
export function mergeAncestors(
  desired: BackendTLSPolicyStatus | undefined,
  live: BackendTLSPolicyStatus | undefined,
  controllerName: string,
  policyNamespace: string,
): BackendTLSPolicyStatus {
  const id = (a: PolicyAncestorStatus) =>
    parentRefId(a.ancestorRef as RouteParentStatus['parentRef'], policyNamespace);
  const ours = new Map<string, PolicyAncestorStatus>();
  for (const a of desired?.ancestors ?? []) {
    if (a.controllerName === controllerName && !ours.has(id(a))) ours.set(id(a), a);
  }
  const ancestors: PolicyAncestorStatus[] = [];
  for (const a of live?.ancestors ?? []) {
    if (a.controllerName !== controllerName) {
      ancestors.push(a);
      continue;
    }
    const replacement = ours.get(id(a));
    if (replacement) {
      ancestors.push(replacement);
      ours.delete(id(a));
    }
  }
  for (const a of ours.values()) ancestors.push(a);
  return { ...(desired ?? {}), ancestors };
}

/** The status to write to `live` for a desired status of kind `k`. */
export function targetStatus(
  k: StatusKind,
  desired: unknown,
  live: KubeObject,
  controllerName: string,
): unknown {
  if (k.merge === 'replace') return desired;
  if (k.merge === 'policyAncestors') {
    return mergeAncestors(
      desired as BackendTLSPolicyStatus | undefined,
      live.status as BackendTLSPolicyStatus | undefined,
      controllerName,
      live.metadata?.namespace ?? 'default',
    );
  }
  return mergeRouteParents(
    desired as HTTPRouteStatus | undefined,
    live.status as HTTPRouteStatus | undefined,
    controllerName,
    live.metadata?.namespace ?? 'default',
  );
}

/**
 * The JSON patch (for the status subresource) that makes `live`'s status
 * equal `target`, or undefined when it already is. Its first operation sets
 * metadata.resourceVersion to the one the diff was computed against: the API
 * server then refuses the patch with 409 Conflict if the object changed
 * since (a JSON-patch `test` op would fail too, but as an indistinct 422).
 */
export function statusPatch(live: KubeObject, target: unknown): Operation[] | undefined {
  let ops: Operation[];
  if (live.status === undefined || live.status === null) {
    ops = target === undefined ? [] : [{ op: 'add', path: '/status', value: target }];
  } else {
    ops = compare(live.status as object, (target ?? {}) as object).map(
      (op) => ({ ...op, path: `/status${op.path}` }) as Operation,
    );
  }
  if (ops.length === 0) return undefined;
  return [
    { op: 'replace', path: '/metadata/resourceVersion', value: live.metadata?.resourceVersion },
    ...ops,
  ];
}
