// The kinds Kubernetes mode watches: everything the translator reads, each
// at one served version. A kind whose CRD is not installed is optional: the
// provider reports it and keeps looking, and the rest of the cluster works.

export interface WatchedKind {
  kind: string;
  group: string; // '' for the core group
  version: string;
  plural: string;
  namespaced: boolean;
  /** Only objects matching this field selector are watched (server-side). */
  fieldSelector?: string;
  /** The kind's CRD may be missing: watch it once it appears. */
  optional?: boolean;
  /**
   * Drops what the translator never reads before the object is cached, so a
   * cluster's big objects (CRD schemas, managed fields) cost no memory here.
   */
  trim?: (o: KubeObject) => void;
  /**
   * An update after which the translator would read the same (trimmed)
   * object: it counts as status-only, so it causes no translation.
   */
  sameForTranslation?: (before: KubeObject, after: KubeObject) => boolean;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    managedFields?: unknown;
    [k: string]: unknown;
  };
  spec?: unknown;
  status?: unknown;
  [k: string]: unknown;
}

export function apiVersionOf(k: WatchedKind): string {
  return k.group ? `${k.group}/${k.version}` : k.version;
}

/** The collection's path for list and watch across all namespaces. */
export function collectionPath(k: WatchedKind): string {
  const base = k.group ? `/apis/${k.group}/${k.version}` : `/api/${k.version}`;
  return `${base}/${k.plural}`;
}

const GATEWAY = 'gateway.networking.k8s.io';

export const WATCHED_KINDS: readonly WatchedKind[] = [
  {
    kind: 'GatewayClass',
    group: GATEWAY,
    version: 'v1',
    plural: 'gatewayclasses',
    namespaced: false,
  },
  { kind: 'Gateway', group: GATEWAY, version: 'v1', plural: 'gateways', namespaced: true },
  { kind: 'HTTPRoute', group: GATEWAY, version: 'v1', plural: 'httproutes', namespaced: true },
  {
    kind: 'ReferenceGrant',
    group: GATEWAY,
    version: 'v1beta1', // served by every bundle since v0.6; v1 only since v1.5
    plural: 'referencegrants',
    namespaced: true,
  },
  { kind: 'Namespace', group: '', version: 'v1', plural: 'namespaces', namespaced: false },
  { kind: 'Service', group: '', version: 'v1', plural: 'services', namespaced: true },
  {
    kind: 'EndpointSlice',
    group: 'discovery.k8s.io',
    version: 'v1',
    plural: 'endpointslices',
    namespaced: true,
  },
  {
    // Listeners only reference TLS Secrets; watching only those keeps every
    // other Secret (tokens, Helm releases) out of the controller's memory.
    kind: 'Secret',
    group: '',
    version: 'v1',
    plural: 'secrets',
    namespaced: true,
    fieldSelector: 'type=kubernetes.io/tls',
  },
  {
    // Read for the CA bundles of client certificate validation (Gateway
    // spec.tls.frontend): only `ca.crt` is kept, so other ConfigMaps cost
    // little memory.
    kind: 'ConfigMap',
    group: '',
    version: 'v1',
    plural: 'configmaps',
    namespaced: true,
    trim: (o) => {
      const ca = (o.data as Record<string, unknown> | undefined)?.['ca.crt'];
      o.data = typeof ca === 'string' ? { 'ca.crt': ca } : {};
      delete o.binaryData;
    },
    // ConfigMaps written often (the replicas' fleet reports, every
    // heartbeat) retranslate nothing unless their ca.crt changed.
    sameForTranslation: (a, b) =>
      (a.data as Record<string, string>)['ca.crt'] === (b.data as Record<string, string>)['ca.crt'],
  },
  {
    // Only the group and the bundle-version annotation are read (the
    // GatewayClass SupportedVersion condition); schemas are dropped.
    kind: 'CustomResourceDefinition',
    group: 'apiextensions.k8s.io',
    version: 'v1',
    plural: 'customresourcedefinitions',
    namespaced: false,
    trim: (o) => {
      const spec = o.spec as { group?: string } | undefined;
      o.spec = { group: spec?.group };
      delete o.status;
    },
  },
  {
    // v1 since bundle v1.4 (the only version v1.6 serves); optional: a
    // cluster with older CRDs still runs everything else.
    kind: 'BackendTLSPolicy',
    group: GATEWAY,
    version: 'v1',
    plural: 'backendtlspolicies',
    namespaced: true,
    optional: true,
  },
  {
    kind: 'FleetConfig',
    group: 'gatefleet.io',
    version: 'v1alpha1',
    plural: 'fleetconfigs',
    namespaced: true,
    optional: true,
  },
];
