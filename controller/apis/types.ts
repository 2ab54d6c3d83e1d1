// Resource types the translator reads. Gateway API kinds come from the
// generated CRD types; core Kubernetes kinds are declared here with only the
// fields gatefleet reads (their full types would drag in a client library the
// pure translator does not need).
import type * as gen from './gateway-api.gen.js';

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

type WithMeta<T> = Omit<T, 'metadata'> & { metadata: ObjectMeta };

export type GatewayClass = WithMeta<gen.GatewayClass>;
export type Gateway = WithMeta<gen.Gateway>;
export type HTTPRoute = WithMeta<gen.HTTPRoute>;
export type ReferenceGrant = WithMeta<gen.ReferenceGrant>;
export type FleetConfig = WithMeta<gen.FleetConfig>;
export type FleetConfigSpec = NonNullable<gen.FleetConfig['spec']>;
export type ShardSpec = NonNullable<FleetConfigSpec['shards']>[number];

export type GatewayClassStatus = NonNullable<gen.GatewayClass['status']>;
export type GatewayStatus = NonNullable<gen.Gateway['status']>;
export type HTTPRouteStatus = NonNullable<gen.HTTPRoute['status']>;
export type Condition = NonNullable<GatewayClassStatus['conditions']>[number];
export type RouteParentStatus = HTTPRouteStatus['parents'][number];
export type ListenerStatus = NonNullable<GatewayStatus['listeners']>[number];

export type Listener = Gateway['spec']['listeners'][number];
export type GatewayAddress = NonNullable<Gateway['spec']['addresses']>[number];
export type FrontendTLSConfig = NonNullable<NonNullable<Gateway['spec']['tls']>['frontend']>;
export type FrontendTLSValidation = NonNullable<FrontendTLSConfig['default']['validation']>;
export type ParentReference = NonNullable<HTTPRoute['spec']['parentRefs']>[number];
export type HTTPRouteRule = NonNullable<HTTPRoute['spec']['rules']>[number];
export type HTTPRouteMatch = NonNullable<HTTPRouteRule['matches']>[number];
export type HTTPRouteFilter = NonNullable<HTTPRouteRule['filters']>[number];
export type HTTPBackendRef = NonNullable<HTTPRouteRule['backendRefs']>[number];
export type HTTPHeaderFilter = NonNullable<HTTPRouteFilter['requestHeaderModifier']>;
export type HTTPRequestRedirect = NonNullable<HTTPRouteFilter['requestRedirect']>;
export type HTTPURLRewrite = NonNullable<HTTPRouteFilter['urlRewrite']>;
export type HTTPRequestMirror = NonNullable<HTTPRouteFilter['requestMirror']>;
export type HTTPCORSFilter = NonNullable<HTTPRouteFilter['cors']>;
export type HTTPRouteRetry = NonNullable<HTTPRouteRule['retry']>;
export type HTTPRouteTimeouts = NonNullable<HTTPRouteRule['timeouts']>;

export interface Namespace {
  apiVersion?: string;
  kind: 'Namespace';
  metadata: ObjectMeta;
}

export interface ServicePort {
  name?: string;
  port: number;
  protocol?: string;
  appProtocol?: string;
  targetPort?: number | string;
}

export interface Service {
  apiVersion?: string;
  kind: 'Service';
  metadata: ObjectMeta;
  spec?: {
    type?: string;
    clusterIP?: string;
    externalName?: string;
    ports?: ServicePort[];
    selector?: Record<string, string>;
  };
}

export interface EndpointSlice {
  apiVersion?: string;
  kind: 'EndpointSlice';
  metadata: ObjectMeta;
  addressType?: string;
  endpoints?: {
    addresses: string[];
    conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
    hostname?: string;
    nodeName?: string;
    zone?: string;
    targetRef?: { kind?: string; name?: string; namespace?: string };
  }[];
  ports?: { name?: string; port?: number; protocol?: string; appProtocol?: string }[];
}

export interface Secret {
  apiVersion?: string;
  kind: 'Secret';
  metadata: ObjectMeta;
  type?: string;
  /** Base64-encoded values, as the API server stores them. */
  data?: Record<string, string>;
  /** Plain values, as users may write them in YAML; merged over `data`. */
  stringData?: Record<string, string>;
}

/** A ConfigMap, read for the CA bundles of client certificate validation (`ca.crt`). */
export interface ConfigMap {
  apiVersion?: string;
  kind: 'ConfigMap';
  metadata: ObjectMeta;
  data?: Record<string, string>;
}

/**
 * A BackendTLSPolicy (gateway.networking.k8s.io/v1), declared with the fields
 * gatefleet reads: how gateways originate TLS to the Services it targets.
 */
export interface BackendTLSPolicy {
  apiVersion?: string;
  kind: 'BackendTLSPolicy';
  metadata: ObjectMeta;
  spec: {
    targetRefs: { group: string; kind: string; name: string; sectionName?: string }[];
    validation: {
      caCertificateRefs?: { group: string; kind: string; name: string }[];
      wellKnownCACertificates?: string;
      hostname: string;
      subjectAltNames?: { type: string; hostname?: string; uri?: string }[];
    };
    options?: Record<string, string>;
  };
  status?: BackendTLSPolicyStatus;
}

export interface PolicyAncestorStatus {
  ancestorRef: {
    group?: string;
    kind?: string;
    namespace?: string;
    name: string;
    sectionName?: string;
    port?: number;
  };
  controllerName: string;
  conditions: Condition[];
}

export interface BackendTLSPolicyStatus {
  ancestors: PolicyAncestorStatus[];
}

/** A CustomResourceDefinition, read only for the Gateway API bundle version annotation. */
export interface CustomResourceDefinition {
  apiVersion?: string;
  kind: 'CustomResourceDefinition';
  metadata: ObjectMeta;
  spec?: { group?: string };
}

export const GATEWAY_GROUP = 'gateway.networking.k8s.io';
export const GATEFLEET_GROUP = 'gatefleet.io';
