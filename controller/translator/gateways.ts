// Gateway decisions and status: whether the Gateway is accepted (its class,
// parameters, addresses and listeners), whether it is programmed, and the
// status of every listener with its attached route count.
import type { FleetConfig, Gateway, GatewayStatus, ListenerStatus } from '../apis/types.js';
import type { FleetAddress } from '../ir/types.js';
import { backendClientCondition, type BackendClientCertificate } from './backend-client-cert.js';
import { allowsInsecureFallback } from './client-validation.js';
import { mergeConditions, type StatusClock } from './conditions.js';
import {
  isProgrammable,
  LISTENER_CONDITION_TYPES,
  listenerConditions,
  type ListenerState,
} from './listeners.js';
import { effectiveParams, resolveParams, type FleetParams } from './params.js';
import { key } from './input.js';
import { ConditionType, Reason, cond, type ConditionDecision } from './reasons.js';

export interface GatewayState {
  key: string;
  gateway: Gateway;
  generation: number;
  listeners: ListenerState[];
  /** Accepted=False with this reason and message, when the Gateway is rejected as a whole. */
  rejected?: { reason: string; message: string };
  addresses: FleetAddress[];
  /** Effective parameters (the Gateway's FleetConfig over its class's). */
  params: FleetParams;
  /** The fleet the Gateway runs on: its own, or a merged one. */
  fleet: string;
  /** spec.tls.backend.clientCertificateRef resolved (absent without one). */
  backendClient?: BackendClientCertificate;
  /** The name of the client certificate its fleet presents to TLS backends, if any. */
  fleetClientCertificate?: string;
}

/** Prefix of merged fleets' names, which no `<namespace>/<gateway>` name can take. */
export const MERGED_FLEET_PREFIX = 'merged:';

const GATEWAY_CONDITION_TYPES: ReadonlySet<string> = new Set([
  ConditionType.Accepted,
  ConditionType.Programmed,
  ConditionType.InsecureFrontendValidationMode,
  ConditionType.ResolvedRefs,
]);

export function decideGateway(
  gateway: Gateway,
  listeners: ListenerState[],
  classProblem: string | undefined,
  classParams: FleetParams | undefined,
  fleetConfigs: ReadonlyMap<string, FleetConfig>,
): GatewayState {
  const ns = gateway.metadata.namespace ?? 'default';
  const gwKey = key(ns, gateway.metadata.name);
  const state: GatewayState = {
    key: gwKey,
    gateway,
    generation: gateway.metadata.generation ?? 1,
    listeners,
    addresses: [],
    params: classParams ?? {},
    fleet: gwKey,
  };
  if (classProblem) {
    state.rejected = { reason: Reason.Invalid, message: classProblem };
    return state;
  }
  const ref = gateway.spec.infrastructure?.parametersRef;
  if (ref) {
    const r = resolveParams(ref, ns, fleetConfigs, 'infrastructure.parametersRef');
    if ('problem' in r) {
      state.rejected = { reason: Reason.InvalidParameters, message: r.problem };
      return state;
    }
    state.params = effectiveParams(classParams, r.params);
  }
  const { minReplicas, maxReplicas } = state.params;
  if (maxReplicas !== undefined && (minReplicas === undefined || minReplicas > maxReplicas)) {
    state.rejected = {
      reason: Reason.InvalidParameters,
      message: `combined FleetConfig parameters: minReplicas ${minReplicas ?? '(unset)'} and maxReplicas ${maxReplicas} do not form a range`,
    };
    return state;
  }
  if (state.params.mergeInto) state.fleet = `${MERGED_FLEET_PREFIX}${state.params.mergeInto}`;
  for (const a of gateway.spec.addresses ?? []) {
    const type = a.type ?? 'IPAddress';
    if (type !== 'IPAddress') {
      state.rejected = {
        reason: Reason.UnsupportedAddress,
        message: `address type ${type} is not supported; gatefleet binds IPAddress addresses`,
      };
      return state;
    }
    state.addresses.push({ type: 'IPAddress', value: a.value ?? '' });
  }
  return state;
}

/** After conflicts are known (across a merged fleet too): a Gateway with no valid listener is rejected. */
export function checkListeners(state: GatewayState): void {
  if (state.rejected || state.listeners.some(isValidListener)) return;
  state.rejected = {
    reason: Reason.ListenersNotValid,
    message: `no valid listener: ${invalidListenerSummary(state.listeners)}`,
  };
}

function isValidListener(l: ListenerState): boolean {
  return !l.rejected && !l.conflict;
}

function invalidListenerSummary(listeners: readonly ListenerState[]): string {
  return listeners
    .filter((l) => !isValidListener(l))
    .map((l) => `${l.name} (${(l.conflict ?? l.rejected)!.reason})`)
    .join(', ');
}

/** True when the Gateway gets a fleet and its listeners get data plane configuration. */
export function isAccepted(g: GatewayState): boolean {
  return !g.rejected;
}

export function gatewayConditions(g: GatewayState): ConditionDecision[] {
  const resolved = backendClientCondition(g.backendClient, g.fleetClientCertificate);
  const out = acceptanceConditions(g);
  if (resolved) out.push(resolved);
  return out;
}

function acceptanceConditions(g: GatewayState): ConditionDecision[] {
  if (g.rejected) {
    return [
      cond(ConditionType.Accepted, 'False', g.rejected.reason, g.rejected.message),
      cond(
        ConditionType.Programmed,
        'False',
        Reason.Invalid,
        `Gateway not accepted: ${g.rejected.message}`,
      ),
    ];
  }
  const out: ConditionDecision[] = [];
  const invalid = g.listeners.filter((l) => !isValidListener(l));
  if (invalid.length > 0) {
    out.push(
      cond(
        ConditionType.Accepted,
        'True',
        Reason.ListenersNotValid,
        `accepted with invalid listeners ${invalidListenerSummary(g.listeners)}; the others are served`,
      ),
    );
  } else {
    out.push(cond(ConditionType.Accepted, 'True', Reason.Accepted, 'Gateway accepted'));
  }
  if (g.listeners.some(isProgrammable)) {
    out.push(
      cond(
        ConditionType.Programmed,
        'True',
        Reason.Programmed,
        'configuration generated for the fleet',
      ),
    );
  } else {
    out.push(
      cond(ConditionType.Programmed, 'False', Reason.Invalid, 'no listener could be programmed'),
    );
  }
  // Present only while a client validation allows insecure fallback (the
  // condition is removed once every mode is AllowValidOnly again).
  if (allowsInsecureFallback(g.gateway)) {
    out.push(
      cond(
        ConditionType.InsecureFrontendValidationMode,
        'True',
        Reason.ConfigurationChanged,
        'client certificate validation is AllowInsecureFallback: clients without a valid certificate are let in',
      ),
    );
  }
  return out;
}

export function gatewayStatus(g: GatewayState, clock: StatusClock): GatewayStatus {
  const prev = g.gateway.status;
  const listeners: ListenerStatus[] = g.listeners.map((l) => {
    const prevListener = prev?.listeners?.find((p) => p.name === l.name);
    return {
      name: l.name,
      supportedKinds: l.supportedKinds,
      attachedRoutes: l.attachedRoutes,
      conditions: mergeConditions(
        prevListener?.conditions,
        listenerConditions(l, g.rejected?.message),
        LISTENER_CONDITION_TYPES,
        g.generation,
        clock,
      ),
    };
  });
  return {
    ...(prev ?? {}),
    conditions: mergeConditions(
      prev?.conditions,
      gatewayConditions(g),
      GATEWAY_CONDITION_TYPES,
      g.generation,
      clock,
    ),
    listeners,
  };
}
