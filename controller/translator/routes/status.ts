// HTTPRoute status: one parent entry per parentRef that names a Gateway of
// gatefleet's class, with Accepted, ResolvedRefs and (when rules were dropped)
// PartiallyInvalid. Entries written by other controllers are kept as they are.
import type { HTTPRoute, HTTPRouteStatus, RouteParentStatus } from '../../apis/types.js';
import { mergeConditions, type StatusClock } from '../conditions.js';
import {
  CONTROLLER_NAME,
  ConditionType,
  Reason,
  cond,
  type ConditionDecision,
} from '../reasons.js';
import type { NormalizedParentRef, ParentOutcome } from './parents.js';
import type { RouteAnalysis } from './rules.js';

const OWNED: ReadonlySet<string> = new Set([
  ConditionType.Accepted,
  ConditionType.ResolvedRefs,
  ConditionType.PartiallyInvalid,
  ConditionType.Sharded,
]);

export interface ParentResult {
  ref: NormalizedParentRef;
  outcome: ParentOutcome;
  /** For a parent on a sharded fleet: the fleet, its shards and those the route is on. */
  shards?: { fleet: string; all: string[]; on: string[] };
}

function sameRef(a: RouteParentStatus['parentRef'], b: NormalizedParentRef): boolean {
  return (
    (a.group ?? 'gateway.networking.k8s.io') === b.group &&
    (a.kind ?? 'Gateway') === b.kind &&
    a.namespace === b.namespace &&
    a.name === b.name &&
    a.sectionName === b.sectionName &&
    a.port === b.port
  );
}

/** True when the route is Accepted by this parent (it counts toward attachedRoutes). */
export function routeAccepted(analysis: RouteAnalysis, outcome: ParentOutcome): boolean {
  return outcome.accepted && analysis.rules.length > 0;
}

export function parentConditions(
  analysis: RouteAnalysis,
  outcome: ParentOutcome,
  shards?: ParentResult['shards'],
): ConditionDecision[] {
  const out: ConditionDecision[] = [];
  const dropped = analysis.dropped.map((d) => `Dropped Rule ${d.index}: ${d.problem.message}`);
  if (!outcome.accepted) {
    out.push(
      cond(ConditionType.Accepted, 'False', outcome.problem.reason, outcome.problem.message),
    );
  } else if (analysis.rules.length === 0 && analysis.dropped.length > 0) {
    out.push(
      cond(
        ConditionType.Accepted,
        'False',
        analysis.dropped[0]!.problem.reason,
        dropped.join('; '),
      ),
    );
  } else {
    out.push(cond(ConditionType.Accepted, 'True', Reason.Accepted, 'route accepted'));
  }
  const first = analysis.refProblems[0];
  if (first) {
    const message = analysis.refProblems.map((p) => p.message).join('; ');
    out.push(cond(ConditionType.ResolvedRefs, 'False', first.reason, message));
  } else {
    out.push(
      cond(ConditionType.ResolvedRefs, 'True', Reason.ResolvedRefs, 'all references resolved'),
    );
  }
  if (analysis.rules.length > 0 && analysis.dropped.length > 0) {
    out.push(
      cond(ConditionType.PartiallyInvalid, 'True', Reason.UnsupportedValue, dropped.join('; ')),
    );
  }
  if (shards && routeAccepted(analysis, outcome)) {
    out.push(
      shards.on.length > 0
        ? cond(
            ConditionType.Sharded,
            'True',
            Reason.Sharded,
            `loaded on shards ${shards.on.join(', ')} of fleet ${shards.fleet}`,
          )
        : cond(
            ConditionType.Sharded,
            'False',
            Reason.NoShardSelected,
            `no shard of fleet ${shards.fleet} (${shards.all.join(', ')}) selects this route: it serves no traffic there`,
          ),
    );
  }
  return out;
}

export function routeStatus(
  route: HTTPRoute,
  analysis: RouteAnalysis,
  results: readonly ParentResult[],
  clock: StatusClock,
): HTTPRouteStatus {
  const previous = route.status?.parents ?? [];
  const parents: RouteParentStatus[] = previous.filter((p) => p.controllerName !== CONTROLLER_NAME);
  for (const { ref, outcome, shards } of results) {
    const prev = previous.find(
      (p) => p.controllerName === CONTROLLER_NAME && sameRef(p.parentRef, ref),
    );
    const parentRef: RouteParentStatus['parentRef'] = {
      group: ref.group,
      kind: ref.kind,
      namespace: ref.namespace,
      name: ref.name,
    };
    if (ref.sectionName !== undefined) parentRef.sectionName = ref.sectionName;
    if (ref.port !== undefined) parentRef.port = ref.port;
    parents.push({
      parentRef,
      controllerName: CONTROLLER_NAME,
      conditions: mergeConditions(
        prev?.conditions,
        parentConditions(analysis, outcome, shards),
        OWNED,
        analysis.generation,
        clock,
      ),
    });
  }
  return { ...(route.status ?? {}), parents };
}
