// Gateway Programmed from the fleet itself. The translator says whether
// configuration could be generated; this says whether the fleet runs it: True
// only when every connected instance of every node group (every shard) has
// applied the group's current snapshot; False/Invalid with the instance's own
// error when one refused it (NACK); False/Pending while instances are missing
// or catching up. Pure: statuses and observations in, statuses out.
import type { GatewayStatus } from '../apis/types.js';
import type { IR } from '../ir/types.js';
import type { StatusClock } from '../translator/conditions.js';
import type { StatusUpdate } from '../translator/index.js';
import { ConditionType, Reason, cond, type ConditionDecision } from '../translator/reasons.js';
import { overlayProgrammed } from './programmed-overlay.js';

export interface ObservedNode {
  id: string;
  nodeGroup: string;
  /** The snapshot version the instance applied completely, if it is up to date with some version. */
  appliedVersion?: string;
  /** Its latest refusal, with the version refused. */
  lastNack?: { version: string; message: string };
}

export interface FleetObservation {
  /** The current snapshot version of every node group. */
  versions: ReadonlyMap<string, string>;
  nodes: readonly ObservedNode[];
}

function groupLabel(group: string, shard: string | undefined): string {
  return shard ? `shard ${shard}` : `fleet ${group}`;
}

/** The Programmed condition a fleet earns, or undefined when the translator's stands (nothing observed). */
export function fleetProgrammed(
  fleetGroups: readonly { name: string; shard?: string; replicas?: number }[],
  obs: FleetObservation,
): ConditionDecision {
  const waiting: string[] = [];
  let instances = 0;
  for (const g of fleetGroups) {
    const version = obs.versions.get(g.name);
    const nodes = obs.nodes.filter((n) => n.nodeGroup === g.name);
    const label = groupLabel(g.name, g.shard);
    const refused = nodes.find((n) => n.appliedVersion !== version && n.lastNack);
    if (refused) {
      return cond(
        ConditionType.Programmed,
        'False',
        Reason.Invalid,
        `gateway ${refused.id} (${label}) rejected the configuration: ${refused.lastNack!.message}`,
      );
    }
    if (nodes.length === 0) {
      // A shard scaled to zero runs nothing and waits for nothing.
      if (g.replicas !== 0) waiting.push(`${label}: no instance connected`);
      continue;
    }
    const applied = nodes.filter(
      (n) => version !== undefined && n.appliedVersion === version,
    ).length;
    if (applied < nodes.length)
      waiting.push(
        `${label}: ${applied}/${nodes.length} instances applied version ${version ?? '(none)'}`,
      );
    instances += nodes.length;
  }
  if (waiting.length > 0) {
    return cond(
      ConditionType.Programmed,
      'False',
      Reason.Pending,
      `waiting for the fleet: ${waiting.join('; ')}`,
    );
  }
  return cond(
    ConditionType.Programmed,
    'True',
    Reason.Programmed,
    `${instances} gateway instance${instances === 1 ? '' : 's'} applied the current configuration`,
  );
}

/**
 * Replaces the Programmed condition of every Gateway whose configuration was
 * generated (translator Programmed=True) with what its fleet shows.
 * `previous` gives each Gateway's status before translation, so the
 * condition's lastTransitionTime moves only when its status does.
 */
export function overlayFleetStatus(
  statuses: readonly StatusUpdate[],
  ir: IR,
  obs: FleetObservation,
  previous: (namespace: string, name: string) => GatewayStatus | undefined,
  generation: (namespace: string, name: string) => number,
  clock: StatusClock,
): StatusUpdate[] {
  return overlayProgrammed(statuses, ir, (fleet) => fleetProgrammed(fleet.nodeGroups, obs), {
    previous,
    generation,
    clock,
  });
}
