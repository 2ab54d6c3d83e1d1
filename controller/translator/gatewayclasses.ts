// GatewayClass status: gatefleet accepts the classes that name its controller,
// reports whether the installed Gateway API CRDs are a version it supports,
// and publishes the features it implements.
import type {
  CustomResourceDefinition,
  FleetConfig,
  GatewayClass,
  GatewayClassStatus,
} from '../apis/types.js';
import { resolveParams, type FleetParams } from './params.js';
import { GATEWAY_GROUP } from '../apis/types.js';
import { GATEWAY_API_BUNDLE_VERSION } from '../apis/gateway-api.gen.js';
import { SUPPORTED_FEATURES } from './features.js';
import { CONTROLLER_NAME, ConditionType, Reason, cond, type ConditionDecision } from './reasons.js';

const BUNDLE_ANNOTATION = 'gateway.networking.k8s.io/bundle-version';

export interface ClassDecision {
  accepted: boolean;
  /** The class's FleetConfig, when it names one that resolves. */
  params?: FleetParams;
  conditions: ConditionDecision[];
  supportedFeatures: GatewayClassStatus['supportedFeatures'];
}

/** `v1.6` of `v1.6.1`: versions sharing a minor release are supported. */
function minor(version: string): string {
  return version.split('.').slice(0, 2).join('.');
}

/** The Gateway API bundle versions the CRDs in the input declare. */
/** The Gateway API bundle versions the CRDs in the input declare; `unknown` for a CRD without one. */
export function installedBundleVersions(crds: readonly CustomResourceDefinition[]): string[] {
  const versions = new Set<string>();
  for (const crd of crds) {
    if (crd.spec?.group !== GATEWAY_GROUP) continue;
    versions.add(crd.metadata.annotations?.[BUNDLE_ANNOTATION] || UNKNOWN_VERSION);
  }
  return [...versions].sort();
}

/** What a Gateway API CRD without the bundle-version annotation counts as: never supported. */
const UNKNOWN_VERSION = 'unknown';

export function isOurs(gc: GatewayClass | undefined): gc is GatewayClass {
  return gc?.spec?.controllerName === CONTROLLER_NAME;
}

export function decideGatewayClass(
  gc: GatewayClass,
  crds: readonly CustomResourceDefinition[],
  fleetConfigs: ReadonlyMap<string, FleetConfig>,
): ClassDecision {
  const installed = installedBundleVersions(crds);
  const unsupported = installed.filter((v) => minor(v) !== minor(GATEWAY_API_BUNDLE_VERSION));
  const conditions: ConditionDecision[] = [];
  let accepted = true;
  const ref = gc.spec.parametersRef;
  const resolved = ref ? resolveParams(ref, undefined, fleetConfigs, 'parametersRef') : undefined;
  if (unsupported.length > 0) {
    accepted = false;
    const msg = `installed Gateway API CRDs are ${unsupported.join(', ')} (annotation ${BUNDLE_ANNOTATION}); gatefleet supports ${minor(GATEWAY_API_BUNDLE_VERSION)}.x`;
    conditions.push(cond(ConditionType.Accepted, 'False', Reason.UnsupportedVersion, msg));
    conditions.push(cond(ConditionType.SupportedVersion, 'False', Reason.UnsupportedVersion, msg));
  } else {
    if (resolved && 'problem' in resolved) {
      accepted = false;
      conditions.push(
        cond(ConditionType.Accepted, 'False', Reason.InvalidParameters, resolved.problem),
      );
    } else {
      conditions.push(
        cond(ConditionType.Accepted, 'True', Reason.Accepted, 'accepted by gatefleet'),
      );
    }
    const version = installed[0] ?? GATEWAY_API_BUNDLE_VERSION;
    conditions.push(
      cond(
        ConditionType.SupportedVersion,
        'True',
        Reason.SupportedVersion,
        `Gateway API ${version} is supported`,
      ),
    );
  }
  return {
    accepted,
    ...(resolved && 'params' in resolved ? { params: resolved.params } : {}),
    conditions,
    supportedFeatures: SUPPORTED_FEATURES.map((name) => ({ name })),
  };
}
