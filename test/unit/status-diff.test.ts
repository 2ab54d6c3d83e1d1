// The status writer's pure decisions: the HTTPRoute parent merge (other
// controllers' entries are theirs, in place), the JSON patch from the live
// status to the target (nothing when equal; resourceVersion pinned), the
// kind table, and which written transitions make events.
import fc from 'fast-check';
import jsonPatch from 'fast-json-patch';
import { describe, expect, it } from 'vitest';
import type { HTTPRouteStatus, RouteParentStatus } from '../../controller/apis/types.js';
import { notableTransitions } from '../../controller/status/events.js';
import {
  mergeRouteParents,
  objectPath,
  parentRefId,
  STATUS_KINDS,
  statusPatch,
  targetStatus,
} from '../../controller/status/status-diff.js';
import type { KubeObject } from '../../controller/providers/kube/kinds.js';

const OURS = 'gatefleet.io/gateway-controller';
const OTHER = 'example.com/other';
const T0 = '2026-01-01T00:00:00Z';

function parent(
  name: string,
  controllerName: string,
  accepted: 'True' | 'False' = 'True',
  extra: Partial<RouteParentStatus['parentRef']> = {},
  reason = accepted === 'True' ? 'Accepted' : 'NotAllowedByListeners',
): RouteParentStatus {
  return {
    parentRef: {
      group: 'gateway.networking.k8s.io',
      kind: 'Gateway',
      namespace: 'ns',
      name,
      ...extra,
    },
    controllerName,
    conditions: [
      {
        type: 'Accepted',
        status: accepted,
        reason,
        message: `${name} says ${reason}`,
        observedGeneration: 1,
        lastTransitionTime: T0,
      },
    ],
  };
}

function routeObject(status: HTTPRouteStatus | undefined, rv = '7'): KubeObject {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'r', namespace: 'ns', resourceVersion: rv, uid: 'u-1', generation: 1 },
    spec: {},
    ...(status ? { status } : {}),
  };
}

/** Applies the patch the way the API server does (to a copy). */
function applied(live: KubeObject, ops: jsonPatch.Operation[]): KubeObject {
  return jsonPatch.applyPatch(structuredClone(live), ops, true, false).newDocument;
}

describe('mergeRouteParents', () => {
  it('keeps foreign entries from the live object in place and replaces ours in place', () => {
    const live: HTTPRouteStatus = {
      parents: [parent('a', OURS, 'False'), parent('x', OTHER), parent('b', OURS)],
    };
    const desired: HTTPRouteStatus = {
      // The translator's stale copy of the foreign entry must not win.
      parents: [
        parent('x', OTHER, 'False'),
        parent('b', OURS),
        parent('a', OURS),
        parent('c', OURS),
      ],
    };
    const merged = mergeRouteParents(desired, live, OURS, 'ns');
    expect(merged.parents).toEqual([
      parent('a', OURS),
      parent('x', OTHER),
      parent('b', OURS),
      parent('c', OURS),
    ]);
  });

  it('removes our entries that are no longer desired and only those', () => {
    const live: HTTPRouteStatus = {
      parents: [parent('a', OURS), parent('x', OTHER), parent('b', OURS)],
    };
    expect(mergeRouteParents({ parents: [] }, live, OURS, 'ns').parents).toEqual([
      parent('x', OTHER),
    ]);
  });

  it('matches parent references with the API defaults applied', () => {
    const bare = { name: 'gw' } as RouteParentStatus['parentRef'];
    const full = {
      group: 'gateway.networking.k8s.io',
      kind: 'Gateway',
      namespace: 'ns',
      name: 'gw',
    } as RouteParentStatus['parentRef'];
    expect(parentRefId(bare, 'ns')).toBe(parentRefId(full, 'ns'));
    expect(parentRefId(bare, 'other')).not.toBe(parentRefId(full, 'ns'));
    expect(parentRefId({ ...full, sectionName: 'http' }, 'ns')).not.toBe(parentRefId(full, 'ns'));
    expect(parentRefId({ ...full, port: 80 }, 'ns')).not.toBe(parentRefId(full, 'ns'));
  });
});

describe('statusPatch', () => {
  it('is undefined when the live status already is the target', () => {
    const s = { parents: [parent('a', OURS)] };
    expect(statusPatch(routeObject(structuredClone(s)), s)).toBeUndefined();
  });

  it('pins the resourceVersion first, then only the changed paths', () => {
    const live = routeObject({ parents: [parent('a', OURS, 'False')] }, '42');
    const ops = statusPatch(live, { parents: [parent('a', OURS)] })!;
    expect(ops[0]).toEqual({ op: 'replace', path: '/metadata/resourceVersion', value: '42' });
    expect(ops.slice(1).every((o) => o.path.startsWith('/status/parents/0/conditions/0/'))).toBe(
      true,
    );
  });

  it('adds the whole status to an object that has none', () => {
    const ops = statusPatch(routeObject(undefined), { parents: [parent('a', OURS)] })!;
    expect(ops.slice(1)).toEqual([
      { op: 'add', path: '/status', value: { parents: [parent('a', OURS)] } },
    ]);
  });
});

const arbParent = fc
  .record({
    name: fc.constantFrom('a', 'b', 'c', 'd'),
    section: fc.option(fc.constantFrom('http', 'https'), { nil: undefined }),
    ours: fc.boolean(),
    accepted: fc.constantFrom('True', 'False') as fc.Arbitrary<'True' | 'False'>,
  })
  .map(({ name, section, ours, accepted }) =>
    parent(name, ours ? OURS : OTHER, accepted, section ? { sectionName: section } : {}),
  );

function uniqueByRef(ps: RouteParentStatus[]): RouteParentStatus[] {
  const seen = new Set<string>();
  return ps.filter((p) => {
    const id = `${p.controllerName}|${parentRefId(p.parentRef, 'ns')}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

describe('properties', () => {
  const routeKind = STATUS_KINDS.get('HTTPRoute')!;

  it('foreign entries survive unchanged and in order; ours become exactly the desired ones', () => {
    fc.assert(
      fc.property(
        fc.array(arbParent, { maxLength: 8 }),
        fc.array(arbParent, { maxLength: 8 }),
        (l, d) => {
          const live = { parents: uniqueByRef(l) };
          const desired = { parents: uniqueByRef(d) };
          const merged = mergeRouteParents(desired, live, OURS, 'ns');
          expect(merged.parents.filter((p) => p.controllerName !== OURS)).toEqual(
            live.parents.filter((p) => p.controllerName !== OURS),
          );
          const key = (p: RouteParentStatus) => JSON.stringify(p);
          expect(
            merged.parents
              .filter((p) => p.controllerName === OURS)
              .map(key)
              .sort(),
          ).toEqual(
            desired.parents
              .filter((p) => p.controllerName === OURS)
              .map(key)
              .sort(),
          );
        },
      ),
    );
  });

  it('the patch turns the live status into the target, and then there is nothing left to write', () => {
    fc.assert(
      fc.property(
        fc.array(arbParent, { maxLength: 8 }),
        fc.array(arbParent, { maxLength: 8 }),
        (l, d) => {
          const live = routeObject({ parents: uniqueByRef(l) });
          const target = targetStatus(routeKind, { parents: uniqueByRef(d) }, live, OURS);
          const ops = statusPatch(live, target);
          const after = ops ? applied(live, ops) : live;
          expect(after.status).toEqual(target);
          expect(after.metadata?.resourceVersion).toBe(live.metadata?.resourceVersion);
          // Idempotent: the same desired status against the result writes nothing.
          expect(
            statusPatch(after, targetStatus(routeKind, { parents: uniqueByRef(d) }, after, OURS)),
          ).toBeUndefined();
          expect(ops === undefined).toBe(JSON.stringify(live.status) === JSON.stringify(target));
        },
      ),
    );
  });
});

describe('kind table', () => {
  it('knows where every status lives, FleetConfig included', () => {
    const path = (k: string, ns: string | undefined) => objectPath(STATUS_KINDS.get(k)!, ns, 'n');
    expect(path('GatewayClass', undefined)).toBe(
      '/apis/gateway.networking.k8s.io/v1/gatewayclasses/n',
    );
    expect(path('Gateway', 'a')).toBe('/apis/gateway.networking.k8s.io/v1/namespaces/a/gateways/n');
    expect(path('HTTPRoute', 'a')).toBe(
      '/apis/gateway.networking.k8s.io/v1/namespaces/a/httproutes/n',
    );
    expect(path('FleetConfig', 'a')).toBe(
      '/apis/gatefleet.io/v1alpha1/namespaces/a/fleetconfigs/n',
    );
    expect(STATUS_KINDS.get('FleetConfig')!.merge).toBe('replace');
  });
});

describe('notableTransitions', () => {
  function gateway(programmed: { status: string; reason: string; message: string } | undefined) {
    return {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: 'gw', namespace: 'ns', uid: 'g-1', resourceVersion: '3' },
      status: programmed
        ? {
            conditions: [
              { type: 'Programmed', observedGeneration: 1, lastTransitionTime: T0, ...programmed },
            ],
          }
        : {},
    } as KubeObject;
  }

  it('a route parent turning Accepted=False is a Warning about the route, related to its Gateway', () => {
    const before = routeObject({ parents: [parent('gw', OURS), parent('x', OTHER, 'False')] });
    const after = routeObject(
      { parents: [parent('gw', OURS, 'False'), parent('x', OTHER, 'False')] },
      '8',
    );
    const [e, ...rest] = notableTransitions(before, after, OURS);
    expect(rest).toEqual([]);
    expect(e).toMatchObject({
      type: 'Warning',
      reason: 'NotAllowedByListeners',
      note: 'gw says NotAllowedByListeners',
      action: 'Accept',
      regarding: {
        kind: 'HTTPRoute',
        namespace: 'ns',
        name: 'r',
        uid: 'u-1',
        resourceVersion: '8',
      },
      related: { kind: 'Gateway', namespace: 'ns', name: 'gw' },
    });
  });

  it('no event when a condition stays False for the same reason, or for other controllers', () => {
    const s = { parents: [parent('gw', OURS, 'False'), parent('x', OTHER, 'False')] };
    expect(notableTransitions(routeObject(s), routeObject(structuredClone(s), '8'), OURS)).toEqual(
      [],
    );
    const newReason = {
      parents: [parent('gw', OURS, 'False', {}, 'NoMatchingListenerHostname')],
    };
    expect(notableTransitions(routeObject(s), routeObject(newReason, '8'), OURS)).toHaveLength(1);
  });

  it('a NACK (Programmed=False/Invalid) is a Warning; becoming Programmed is Normal', () => {
    const nack = { status: 'False', reason: 'Invalid', message: 'gateway g-1 rejected: bad' };
    const ok = { status: 'True', reason: 'Programmed', message: '1 gateway instance applied' };
    const pending = { status: 'False', reason: 'Pending', message: 'waiting' };
    expect(notableTransitions(gateway(ok), gateway(nack), OURS)).toMatchObject([
      { type: 'Warning', reason: 'Invalid', note: nack.message, action: 'Program' },
    ]);
    expect(notableTransitions(gateway(nack), gateway(nack), OURS)).toEqual([]);
    expect(notableTransitions(gateway(pending), gateway(ok), OURS)).toMatchObject([
      { type: 'Normal', reason: 'Programmed', note: ok.message },
    ]);
    expect(notableTransitions(gateway(undefined), gateway(ok), OURS)).toHaveLength(1);
    expect(notableTransitions(gateway(ok), gateway(ok), OURS)).toEqual([]);
    expect(notableTransitions(gateway(ok), gateway(pending), OURS)).toEqual([]);
  });
});
