// The shared step of the Gateway status overlays (fleet-status.ts,
// address-status.ts): for every Gateway whose configuration was generated
// (translator Programmed=True), Programmed becomes what `decide` says about
// its fleet, merged so that lastTransitionTime moves only when the status
// does. Pure: statuses in, statuses out; other statuses are passed through.
import type { GatewayStatus } from '../apis/types.js';
import type { Fleet, IR } from '../ir/types.js';
import { mergeConditions, type StatusClock } from '../translator/conditions.js';
import type { StatusUpdate } from '../translator/index.js';
import { ConditionType, type ConditionDecision } from '../translator/reasons.js';

const PROGRAMMED_ONLY: ReadonlySet<string> = new Set([ConditionType.Programmed]);

export interface OverlayContext {
  /** Each Gateway's status before, for transition times. */
  previous: (namespace: string, name: string) => GatewayStatus | undefined;
  generation: (namespace: string, name: string) => number;
  clock: StatusClock;
}

/** `decide`: the fleet's Programmed condition, or undefined to keep the translator's. */
export function overlayProgrammed(
  statuses: readonly StatusUpdate[],
  ir: IR,
  decide: (fleet: Fleet) => ConditionDecision | undefined,
  { previous, generation, clock }: OverlayContext,
): StatusUpdate[] {
  const fleetOf = new Map<string, Fleet>();
  for (const f of ir.fleets)
    for (const gw of f.gateways) fleetOf.set(`${gw.namespace}/${gw.name}`, f);
  return statuses.map((s) => {
    if (s.kind !== 'Gateway') return s;
    const fleet = fleetOf.get(`${s.namespace}/${s.name}`);
    const programmed = s.status.conditions?.find((c) => c.type === ConditionType.Programmed);
    if (!fleet || programmed?.status !== 'True') return s;
    const decided = decide(fleet);
    if (!decided) return s;
    const merged = mergeConditions(
      previous(s.namespace, s.name)?.conditions,
      [decided],
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
