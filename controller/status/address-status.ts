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
import type { StatusClock } from '../translator/conditions.js';
import type { StatusUpdate } from '../translator/index.js';
import { ConditionType, cond } from '../translator/reasons.js';
import { overlayProgrammed } from './programmed-overlay.js';

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
  return overlayProgrammed(
    statuses,
    ir,
    (fleet) => {
      const problem = problemOf(fleet);
      return problem && cond(ConditionType.Programmed, 'False', problem.reason, problem.message);
    },
    { previous, generation, clock },
  );
}
