// Gateway Programmed from its requested addresses (spec.addresses). The
// translator says whether configuration could be generated; whoever runs the
// fleet says whether the addresses the Gateway asked for are the fleet's
// (Kubernetes: the provisioner, from its Services; see
// provisioner/addresses.ts). While one is not, Programmed is False with that
// reason (AddressNotUsable, AddressNotAssigned) and message, in place of what
// the fleet's instances would earn. Pure: statuses and decisions in,
// statuses out.
import type { GatewayStatus } from '../apis/types.js';
import type { Fleet, IR } from '../ir/types.js';
import { mergeConditions, type StatusClock } from '../translator/conditions.js';
import type { StatusUpdate } from '../translator/index.js';
import { ConditionType, cond } from '../translator/reasons.js';

const PROGRAMMED_ONLY: ReadonlySet<string> = new Set([ConditionType.Programmed]);

export type AddressProblemOf = (fleet: Fleet) => { reason: string; message: string } | undefined;

/**
 * Replaces Programmed=True (configuration generated) of every Gateway whose
 * fleet has an address problem. `previous` gives each Gateway's status before,
 * so lastTransitionTime moves only when the condition's status does.
 */
export function overlayAddressStatus(
  statuses: readonly StatusUpdate[],
  ir: IR,
  problemOf: AddressProblemOf,
  previous: (namespace: string, name: string) => GatewayStatus | undefined,
  generation: (namespace: string, name: string) => number,
  clock: StatusClock,
): StatusUpdate[] {
  const fleetOf = new Map<string, Fleet>();
  for (const f of ir.fleets)
    for (const gw of f.gateways) fleetOf.set(`${gw.namespace}/${gw.name}`, f);
  return statuses.map((s) => {
    if (s.kind !== 'Gateway') return s;
    const fleet = fleetOf.get(`${s.namespace}/${s.name}`);
    const programmed = s.status.conditions?.find((c) => c.type === ConditionType.Programmed);
    if (!fleet || programmed?.status !== 'True') return s;
    const problem = problemOf(fleet);
    if (!problem) return s;
    const merged = mergeConditions(
      previous(s.namespace, s.name)?.conditions,
      [cond(ConditionType.Programmed, 'False', problem.reason, problem.message)],
      PROGRAMMED_ONLY,
      generation(s.namespace, s.name),
      clock,
    ).find((c) => c.type === ConditionType.Programmed)!;
    return {
      ...s,
      status: {
        ...s.status,
        conditions: (s.status.conditions ?? []).map((c) =>
          c.type === ConditionType.Programmed ? merged : c,
        ),
      },
    };
  });
}
