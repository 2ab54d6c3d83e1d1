// FleetConfig status: every FleetConfig is gatefleet's own, so each gets an
// Accepted condition (False/Invalid naming the problem when its content cannot
// be used) and the list of GatewayClasses and Gateways of gatefleet's classes
// that reference it — so an operator sees from the FleetConfig alone whether
// it is valid and what it governs.
import type { FleetConfig, FleetConfigSpec, Gateway, GatewayClass } from '../apis/types.js';
import { GATEFLEET_GROUP } from '../apis/types.js';
import { mergeConditions, type StatusClock } from './conditions.js';
import { key } from './input.js';
import { ConditionType, Reason, cond } from './reasons.js';

/** Why a FleetConfig's content cannot be used, or undefined when it can. */
export function fleetConfigProblem(spec: FleetConfigSpec): string | undefined {
  if (
    spec.maxReplicas !== undefined &&
    (spec.minReplicas === undefined || spec.minReplicas > spec.maxReplicas)
  ) {
    return 'maxReplicas needs a minReplicas no larger than it';
  }
  const names = new Set<string>();
  for (const s of spec.shards ?? []) {
    if (names.has(s.name)) return `shard ${s.name} is declared twice`;
    names.add(s.name);
  }
  return undefined;
}

export interface FleetConfigReference {
  kind: 'GatewayClass' | 'Gateway';
  namespace?: string;
  name: string;
}

export type FleetConfigStatus = NonNullable<FleetConfig['status']>;

const OWNED: ReadonlySet<string> = new Set([ConditionType.Accepted]);

/** `namespace/name` of each FleetConfig → who references it (sorted). */
export function fleetConfigReferences(
  classes: readonly GatewayClass[],
  gateways: readonly Gateway[],
): Map<string, FleetConfigReference[]> {
  const refs = new Map<string, FleetConfigReference[]>();
  const add = (k: string, r: FleetConfigReference) => {
    const list = refs.get(k);
    if (list) list.push(r);
    else refs.set(k, [r]);
  };
  for (const gc of classes) {
    const ref = gc.spec.parametersRef;
    if (ref?.group === GATEFLEET_GROUP && ref.kind === 'FleetConfig' && ref.namespace) {
      add(key(ref.namespace, ref.name), { kind: 'GatewayClass', name: gc.metadata.name });
    }
  }
  for (const gw of gateways) {
    const ref = gw.spec.infrastructure?.parametersRef;
    const ns = gw.metadata.namespace ?? 'default';
    if (ref?.group === GATEFLEET_GROUP && ref.kind === 'FleetConfig') {
      add(key(ns, ref.name), { kind: 'Gateway', namespace: ns, name: gw.metadata.name });
    }
  }
  return refs;
}

export function fleetConfigStatus(
  fc: FleetConfig,
  referencedBy: readonly FleetConfigReference[],
  clock: StatusClock,
): FleetConfigStatus {
  const problem = fleetConfigProblem(fc.spec ?? {});
  const n = referencedBy.length;
  const decision = problem
    ? cond(ConditionType.Accepted, 'False', Reason.Invalid, problem)
    : cond(
        ConditionType.Accepted,
        'True',
        Reason.Accepted,
        n === 0
          ? 'valid; no GatewayClass or Gateway of gatefleet references it'
          : `valid; referenced by ${n} object${n === 1 ? '' : 's'}`,
      );
  return {
    conditions: mergeConditions(
      fc.status?.conditions,
      [decision],
      OWNED,
      fc.metadata.generation ?? 1,
      clock,
    ),
    referencedBy: [...referencedBy].sort((a, b) => {
      const ka = `${a.kind}/${a.namespace ?? ''}/${a.name}`;
      const kb = `${b.kind}/${b.namespace ?? ''}/${b.name}`;
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    }),
  };
}
