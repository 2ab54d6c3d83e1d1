// gatefleet's parameters: FleetConfig objects referenced from a GatewayClass
// (defaults) and from a Gateway (overrides). A missing or wrong reference is
// InvalidParameters on the object that makes it; effective parameters are
// the Gateway's fields over the class's fields over gatefleet's defaults.
import type { FleetConfig, FleetConfigSpec } from '../apis/types.js';
import { GATEFLEET_GROUP } from '../apis/types.js';
import { fleetConfigProblem } from './fleetconfigs.js';
import { key } from './input.js';

export type FleetParams = FleetConfigSpec;

export type ParamsResult = { params: FleetParams; source: string } | { problem: string };

export interface ParamsRef {
  group: string;
  kind: string;
  name: string;
  namespace?: string;
}

export function describeRef(r: {
  group?: string;
  kind: string;
  name: string;
  namespace?: string;
}): string {
  return `${r.group ? r.group : 'core'}/${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}`;
}

/**
 * Resolves a parametersRef. `namespace` is where a reference without one
 * points (a Gateway's own namespace); a GatewayClass's reference must name one.
 */
export function resolveParams(
  ref: ParamsRef,
  namespace: string | undefined,
  fleetConfigs: ReadonlyMap<string, FleetConfig>,
  field: string,
): ParamsResult {
  const where = `${field} ${describeRef(ref)}`;
  if (ref.group !== GATEFLEET_GROUP || ref.kind !== 'FleetConfig') {
    return {
      problem: `${where}: gatefleet reads parameters only from ${GATEFLEET_GROUP}/FleetConfig`,
    };
  }
  const ns = ref.namespace ?? namespace;
  if (!ns)
    return { problem: `${where}: a FleetConfig is namespaced; the reference needs a namespace` };
  const fc = fleetConfigs.get(key(ns, ref.name));
  if (!fc) return { problem: `${where}: FleetConfig ${ns}/${ref.name} not found` };
  const spec = fc.spec ?? {};
  const invalid = fleetConfigProblem(spec);
  if (invalid) return { problem: `${where}: ${invalid}` };
  return { params: spec, source: `${ns}/${ref.name}` };
}

/** The Gateway's parameters over the class's: each field set on the Gateway wins. */
export function effectiveParams(
  classParams: FleetParams | undefined,
  gatewayParams: FleetParams | undefined,
): FleetParams {
  return { ...(classParams ?? {}), ...(gatewayParams ?? {}) };
}
