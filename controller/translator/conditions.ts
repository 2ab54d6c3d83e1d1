// Merges the conditions the translator decided into an object's previous
// conditions, following the Gateway API rules for status bookkeeping:
// conditions are a map keyed by type; foreign types are kept in place; every
// condition written carries the object's generation; lastTransitionTime moves
// only when the status of that condition changes; a condition written for a
// newer generation than the one translated is left alone.
import type { Condition } from '../apis/types.js';
import type { ConditionDecision } from './reasons.js';

export interface StatusClock {
  /** RFC 3339 timestamp used for conditions whose status changed. */
  now: string;
}

export function mergeConditions(
  previous: readonly Condition[] | undefined,
  decided: readonly ConditionDecision[],
  owned: ReadonlySet<string>,
  generation: number,
  clock: StatusClock,
): Condition[] {
  const byType = new Map(decided.map((d) => [d.type, d]));
  const out: Condition[] = [];
  const written = new Set<string>();
  for (const prev of previous ?? []) {
    const next = byType.get(prev.type);
    if (!next) {
      // Ours but no longer decided: drop it. Foreign: keep it untouched.
      if (!owned.has(prev.type)) out.push(prev);
      continue;
    }
    written.add(prev.type);
    if ((prev.observedGeneration ?? 0) > generation) {
      out.push(prev);
      continue;
    }
    out.push(toCondition(next, generation, prev.status === next.status ? prev : undefined, clock));
  }
  for (const d of decided) {
    if (!written.has(d.type)) out.push(toCondition(d, generation, undefined, clock));
  }
  return out;
}

function toCondition(
  d: ConditionDecision,
  generation: number,
  sameStatus: Condition | undefined,
  clock: StatusClock,
): Condition {
  return {
    type: d.type,
    status: d.status,
    reason: d.reason,
    message: d.message,
    observedGeneration: generation,
    lastTransitionTime: sameStatus?.lastTransitionTime ?? clock.now,
  };
}
