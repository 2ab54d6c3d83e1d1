// Condition types and reasons gatefleet sets, as the Gateway API defines them
// (apis/v1 *_types.go). Kept as data so every status decision is a lookup, not
// a string typed in place.

export const CONTROLLER_NAME = 'gatefleet.io/gateway-controller';

export const ConditionType = {
  Accepted: 'Accepted',
  Programmed: 'Programmed',
  ResolvedRefs: 'ResolvedRefs',
  Conflicted: 'Conflicted',
  OverlappingTLSConfig: 'OverlappingTLSConfig',
  SupportedVersion: 'SupportedVersion',
  PartiallyInvalid: 'PartiallyInvalid',
  InsecureFrontendValidationMode: 'InsecureFrontendValidationMode',
  /** gatefleet's route parent condition: on which shards of a sharded fleet the route is loaded. */
  Sharded: 'gatefleet.io/Sharded',
} as const;

export const Reason = {
  // shared
  Accepted: 'Accepted',
  Programmed: 'Programmed',
  ResolvedRefs: 'ResolvedRefs',
  Invalid: 'Invalid',
  InvalidParameters: 'InvalidParameters',
  Pending: 'Pending',
  UnsupportedValue: 'UnsupportedValue',
  RefNotPermitted: 'RefNotPermitted',
  // GatewayClass
  SupportedVersion: 'SupportedVersion',
  UnsupportedVersion: 'UnsupportedVersion',
  // Gateway
  ListenersNotValid: 'ListenersNotValid',
  UnsupportedAddress: 'UnsupportedAddress',
  AddressNotUsable: 'AddressNotUsable',
  AddressNotAssigned: 'AddressNotAssigned',
  /** InsecureFrontendValidationMode=True: a client validation mode is AllowInsecureFallback. */
  ConfigurationChanged: 'ConfigurationChanged',
  /** ResolvedRefs=False: spec.tls.backend.clientCertificateRef cannot be used. */
  InvalidClientCertificateRef: 'InvalidClientCertificateRef',
  // Listener
  HostnameConflict: 'HostnameConflict',
  ProtocolConflict: 'ProtocolConflict',
  NoConflicts: 'NoConflicts',
  UnsupportedProtocol: 'UnsupportedProtocol',
  InvalidCertificateRef: 'InvalidCertificateRef',
  InvalidCACertificateRef: 'InvalidCACertificateRef',
  InvalidCACertificateKind: 'InvalidCACertificateKind',
  NoValidCACertificate: 'NoValidCACertificate',
  InvalidRouteKinds: 'InvalidRouteKinds',
  OverlappingHostnames: 'OverlappingHostnames',
  // Route
  NotAllowedByListeners: 'NotAllowedByListeners',
  NoMatchingListenerHostname: 'NoMatchingListenerHostname',
  NoMatchingParent: 'NoMatchingParent',
  IncompatibleFilters: 'IncompatibleFilters',
  BackendNotFound: 'BackendNotFound',
  /**
   * gatefleet's reason for a route whose parent Gateway is not accepted: no
   * rule of it can be implemented there, so it is not Accepted (and does not
   * count in attachedRoutes) until the Gateway is.
   */
  GatewayNotAccepted: 'GatewayNotAccepted',
  /** gatefleet.io/Sharded=True: the route is loaded on at least one shard. */
  Sharded: 'Sharded',
  /** gatefleet.io/Sharded=False: no shard of the fleet selects the route. */
  NoShardSelected: 'NoShardSelected',
  InvalidKind: 'InvalidKind',
  // Policy (BackendTLSPolicy)
  Conflicted: 'Conflicted',
} as const;

export type ConditionStatus = 'True' | 'False' | 'Unknown';

/** A condition as the translator decides it, before bookkeeping fields are added. */
export interface ConditionDecision {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
}

export function cond(
  type: string,
  status: ConditionStatus,
  reason: string,
  message: string,
): ConditionDecision {
  return { type, status, reason, message };
}
