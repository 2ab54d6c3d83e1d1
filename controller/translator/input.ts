// Indexes the translator's input: a flat list of Kubernetes objects. Objects
// gatefleet cannot read are reported as diagnostics and skipped, so one bad
// object never hides the good ones.
import type {
  BackendTLSPolicy,
  ConfigMap,
  CustomResourceDefinition,
  FleetConfig,
  EndpointSlice,
  Gateway,
  GatewayClass,
  HTTPRoute,
  Namespace,
  ReferenceGrant,
  Secret,
  Service,
} from '../apis/types.js';
import { GATEWAY_GROUP } from '../apis/types.js';
import { ErrorCode, type Diagnostic } from '../errors.js';

/** Where an input object came from, for diagnostics. */
export interface SourceLocation {
  file?: string;
  line?: number;
  /** Position of the document in the input, counting from 1. */
  index: number;
}

export interface InputObject {
  object: unknown;
  source?: SourceLocation;
}

export interface ResourceSet {
  gatewayClasses: Map<string, GatewayClass>;
  gateways: Map<string, Gateway>;
  httpRoutes: Map<string, HTTPRoute>;
  referenceGrants: ReferenceGrant[];
  namespaces: Map<string, Namespace>;
  services: Map<string, Service>;
  /** EndpointSlices by `<namespace>/<service name>`. */
  endpointSlices: Map<string, EndpointSlice[]>;
  secrets: Map<string, Secret>;
  configMaps: Map<string, ConfigMap>;
  crds: CustomResourceDefinition[];
  fleetConfigs: Map<string, FleetConfig>;
  backendTLSPolicies: Map<string, BackendTLSPolicy>;
}

type Kind =
  | 'GatewayClass'
  | 'Gateway'
  | 'HTTPRoute'
  | 'ReferenceGrant'
  | 'Namespace'
  | 'Service'
  | 'EndpointSlice'
  | 'Secret'
  | 'ConfigMap'
  | 'CustomResourceDefinition'
  | 'FleetConfig'
  | 'BackendTLSPolicy';

const GATEWAY_API_VERSIONS = new Set([`${GATEWAY_GROUP}/v1`, `${GATEWAY_GROUP}/v1beta1`]);

/** apiVersions accepted per kind. */
const KINDS: Record<Kind, { versions: Set<string>; namespaced: boolean }> = {
  GatewayClass: { versions: GATEWAY_API_VERSIONS, namespaced: false },
  Gateway: { versions: GATEWAY_API_VERSIONS, namespaced: true },
  HTTPRoute: { versions: GATEWAY_API_VERSIONS, namespaced: true },
  ReferenceGrant: { versions: GATEWAY_API_VERSIONS, namespaced: true },
  Namespace: { versions: new Set(['v1']), namespaced: false },
  Service: { versions: new Set(['v1']), namespaced: true },
  EndpointSlice: { versions: new Set(['discovery.k8s.io/v1']), namespaced: true },
  Secret: { versions: new Set(['v1']), namespaced: true },
  ConfigMap: { versions: new Set(['v1']), namespaced: true },
  CustomResourceDefinition: {
    versions: new Set(['apiextensions.k8s.io/v1']),
    namespaced: false,
  },
  FleetConfig: { versions: new Set(['gatefleet.io/v1alpha1']), namespaced: true },
  // v1 is the only version the v1.6 bundle serves (v1alpha3 is kept, not served).
  BackendTLSPolicy: { versions: new Set([`${GATEWAY_GROUP}/v1`]), namespaced: true },
};

/** The label EndpointSlices carry to name their Service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export function key(namespace: string | undefined, name: string): string {
  return namespace === undefined ? name : `${namespace}/${name}`;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function indexResources(inputs: readonly InputObject[]): {
  resources: ResourceSet;
  diagnostics: Diagnostic[];
} {
  const diagnostics: Diagnostic[] = [];
  const rs: ResourceSet = {
    gatewayClasses: new Map(),
    gateways: new Map(),
    httpRoutes: new Map(),
    referenceGrants: [],
    namespaces: new Map(),
    services: new Map(),
    endpointSlices: new Map(),
    secrets: new Map(),
    configMaps: new Map(),
    crds: [],
    fleetConfigs: new Map(),
    backendTLSPolicies: new Map(),
  };
  const grants = new Map<string, ReferenceGrant>();
  const slices = new Map<string, EndpointSlice>();
  const crdNames = new Set<string>();
  const isDuplicate = (kind: Kind, k: string): boolean => {
    switch (kind) {
      case 'GatewayClass':
        return rs.gatewayClasses.has(k);
      case 'Gateway':
        return rs.gateways.has(k);
      case 'HTTPRoute':
        return rs.httpRoutes.has(k);
      case 'ReferenceGrant':
        return grants.has(k);
      case 'Namespace':
        return rs.namespaces.has(k);
      case 'Service':
        return rs.services.has(k);
      case 'EndpointSlice':
        return slices.has(k);
      case 'Secret':
        return rs.secrets.has(k);
      case 'ConfigMap':
        return rs.configMaps.has(k);
      case 'CustomResourceDefinition':
        return crdNames.has(k) || (crdNames.add(k), false);
      case 'FleetConfig':
        return rs.fleetConfigs.has(k);
      case 'BackendTLSPolicy':
        return rs.backendTLSPolicies.has(k);
    }
  };

  inputs.forEach((input, i) => {
    const loc = input.source ?? { index: i + 1 };
    const where = (object: string) => located(object, loc);
    const obj = input.object;
    if (!isRecord(obj) || typeof obj.kind !== 'string') {
      diagnostics.push({
        code: ErrorCode.InputNotObject,
        ...where(`document ${loc.index}`),
        message: 'not a Kubernetes object: expected a mapping with `kind` and `apiVersion`',
      });
      return;
    }
    const kind = obj.kind;
    const spec = KINDS[kind as Kind];
    const apiVersion = typeof obj.apiVersion === 'string' ? obj.apiVersion : '';
    if (!spec || !spec.versions.has(apiVersion)) {
      diagnostics.push({
        code: ErrorCode.InputUnknownKind,
        ...where(`${kind} (document ${loc.index})`),
        message: spec
          ? `apiVersion "${apiVersion}" is not served for ${kind}; expected one of ${[...spec.versions].join(', ')}`
          : `kind ${kind} is not read by gatefleet; ignored`,
      });
      return;
    }
    const meta = obj.metadata;
    if (!isRecord(meta) || typeof meta.name !== 'string' || meta.name === '') {
      diagnostics.push({
        code: ErrorCode.InputMissingName,
        ...where(`${kind} (document ${loc.index})`),
        message: 'metadata.name is required',
      });
      return;
    }
    const namespace = !spec.namespaced
      ? undefined
      : typeof meta.namespace === 'string' && meta.namespace !== ''
        ? meta.namespace
        : 'default';
    const k = key(namespace, meta.name);
    const problem = shapeProblem(kind as Kind, obj);
    if (problem) {
      diagnostics.push({
        code: ErrorCode.InputInvalidField,
        ...where(`${kind} ${k}`),
        message: problem,
      });
      return;
    }
    if (isDuplicate(kind as Kind, k)) {
      diagnostics.push({
        code: ErrorCode.InputDuplicate,
        ...where(`${kind} ${k}`),
        message: 'defined more than once; the last definition is used',
      });
    }
    const norm = normalized(obj, kind, meta, namespace);
    switch (kind as Kind) {
      case 'GatewayClass':
        rs.gatewayClasses.set(k, norm as unknown as GatewayClass);
        break;
      case 'Gateway':
        rs.gateways.set(k, norm as unknown as Gateway);
        break;
      case 'HTTPRoute':
        rs.httpRoutes.set(k, norm as unknown as HTTPRoute);
        break;
      case 'ReferenceGrant':
        grants.set(k, norm as unknown as ReferenceGrant);
        break;
      case 'Namespace':
        rs.namespaces.set(k, norm as unknown as Namespace);
        break;
      case 'Service':
        rs.services.set(k, norm as unknown as Service);
        break;
      case 'EndpointSlice':
        slices.set(k, norm as unknown as EndpointSlice);
        break;
      case 'Secret':
        rs.secrets.set(k, norm as unknown as Secret);
        break;
      case 'ConfigMap':
        rs.configMaps.set(k, norm as unknown as ConfigMap);
        break;
      case 'CustomResourceDefinition':
        rs.crds.push(norm as unknown as CustomResourceDefinition);
        break;
      case 'FleetConfig':
        rs.fleetConfigs.set(k, norm as unknown as FleetConfig);
        break;
      case 'BackendTLSPolicy':
        rs.backendTLSPolicies.set(k, norm as unknown as BackendTLSPolicy);
        break;
    }
  });
  rs.referenceGrants = [...grants.values()];
  // A Service's slices in slice name order (most Services have one).
  const sliceKeys = new Map<EndpointSlice, string>();
  for (const [k, slice] of slices) {
    const svc = slice.metadata.labels?.[SERVICE_NAME_LABEL];
    if (!svc) continue;
    const sk = key(slice.metadata.namespace, svc);
    sliceKeys.set(slice, k);
    const list = rs.endpointSlices.get(sk);
    if (list) list.push(slice);
    else rs.endpointSlices.set(sk, [slice]);
  }
  for (const list of rs.endpointSlices.values()) {
    if (list.length > 1) list.sort((a, b) => (sliceKeys.get(a)! < sliceKeys.get(b)! ? -1 : 1));
  }
  return { resources: rs, diagnostics };
}

function located(
  object: string,
  loc: SourceLocation,
): Pick<Diagnostic, 'object' | 'file' | 'line'> {
  return {
    object,
    ...(loc.file === undefined ? {} : { file: loc.file }),
    ...(loc.line === undefined ? {} : { line: loc.line }),
  };
}

/**
 * Objects are never modified; one that needs defaults is shallow-copied, once
 * per object, so that an unchanged object keeps its identity across
 * translations (TranslationMemo reuses what was derived from it).
 */
const defaulted = new WeakMap<object, Record<string, unknown>>();

function normalized(
  obj: Record<string, unknown>,
  kind: string,
  meta: Record<string, unknown>,
  namespace: string | undefined,
): Record<string, unknown> {
  const needsNamespace = namespace !== undefined && meta.namespace !== namespace;
  const needsSpec = kind === 'HTTPRoute' && obj.spec === undefined;
  if (!needsNamespace && !needsSpec) return obj;
  let norm = defaulted.get(obj);
  if (norm) return norm;
  norm = obj;
  if (needsNamespace) norm = { ...norm, metadata: { ...meta, namespace } };
  if (needsSpec) norm = { ...norm, spec: {} };
  defaulted.set(obj, norm);
  return norm;
}

/** The minimal structure each kind needs; the CRD schemas validate the rest. */
function shapeProblem(kind: Kind, obj: Record<string, unknown>): string | undefined {
  const spec = obj.spec;
  switch (kind) {
    case 'GatewayClass':
      if (!isRecord(spec) || typeof spec.controllerName !== 'string')
        return 'spec.controllerName is required';
      return undefined;
    case 'Gateway':
      if (!isRecord(spec) || typeof spec.gatewayClassName !== 'string')
        return 'spec.gatewayClassName is required';
      if (!Array.isArray(spec.listeners) || !spec.listeners.every(isRecord))
        return 'spec.listeners must be a list of listeners';
      return undefined;
    case 'HTTPRoute':
      if (spec !== undefined && !isRecord(spec)) return 'spec must be a mapping';
      return undefined;
    case 'ReferenceGrant':
      if (!isRecord(spec) || !Array.isArray(spec.from) || !Array.isArray(spec.to))
        return 'spec.from and spec.to are required lists';
      return undefined;
    case 'Service':
      if (spec !== undefined && !isRecord(spec)) return 'spec must be a mapping';
      return undefined;
    case 'EndpointSlice':
      // null is how the API server serves a slice with no endpoints (kube-controller-manager
      // writes them while a Service has no ready pod): an empty list, not an error.
      if (obj.endpoints !== undefined && obj.endpoints !== null && !Array.isArray(obj.endpoints))
        return 'endpoints must be a list';
      return undefined;
    case 'FleetConfig':
      if (spec !== undefined && !isRecord(spec)) return 'spec must be a mapping';
      if (isRecord(spec) && spec.shards !== undefined && !Array.isArray(spec.shards))
        return 'spec.shards must be a list';
      return undefined;
    case 'BackendTLSPolicy':
      if (!isRecord(spec) || !Array.isArray(spec.targetRefs) || !spec.targetRefs.every(isRecord))
        return 'spec.targetRefs must be a list of references';
      if (!isRecord(spec.validation)) return 'spec.validation is required';
      return undefined;
    default:
      return undefined;
  }
}
