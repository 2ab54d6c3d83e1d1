// Where the CRDs a kind is validated against come from: the experimental
// channel of the Gateway API bundle gatefleet ships (a superset of the standard
// channel) and gatefleet's own FleetConfig. Each file is read and parsed only
// when the first object of one of its kinds is validated.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

/** A CRD's parts the validator uses. */
export interface CrdVersion {
  name: string;
  served: boolean;
  schema: Record<string, unknown>;
  /** The status subresource is enabled: `status` is not validated on create or update. */
  statusSubresource: boolean;
}

export interface Crd {
  group: string;
  kind: string;
  namespaced: boolean;
  versions: CrdVersion[];
  file: string;
}

const EXPERIMENTAL = 'gateway-api/experimental/';

/** Kind → CRD file, relative to the CRD directory. */
export const CRD_FILES: Readonly<Record<string, string>> = {
  GatewayClass: `${EXPERIMENTAL}gateway.networking.k8s.io_gatewayclasses.yaml`,
  Gateway: `${EXPERIMENTAL}gateway.networking.k8s.io_gateways.yaml`,
  HTTPRoute: `${EXPERIMENTAL}gateway.networking.k8s.io_httproutes.yaml`,
  GRPCRoute: `${EXPERIMENTAL}gateway.networking.k8s.io_grpcroutes.yaml`,
  TCPRoute: `${EXPERIMENTAL}gateway.networking.k8s.io_tcproutes.yaml`,
  TLSRoute: `${EXPERIMENTAL}gateway.networking.k8s.io_tlsroutes.yaml`,
  UDPRoute: `${EXPERIMENTAL}gateway.networking.k8s.io_udproutes.yaml`,
  ReferenceGrant: `${EXPERIMENTAL}gateway.networking.k8s.io_referencegrants.yaml`,
  BackendTLSPolicy: `${EXPERIMENTAL}gateway.networking.k8s.io_backendtlspolicies.yaml`,
  ListenerSet: `${EXPERIMENTAL}gateway.networking.k8s.io_listenersets.yaml`,
  XBackend: `${EXPERIMENTAL}gateway.networking.x-k8s.io_xbackends.yaml`,
  XBackendTrafficPolicy: `${EXPERIMENTAL}gateway.networking.x-k8s.io_xbackendtrafficpolicies.yaml`,
  XMesh: `${EXPERIMENTAL}gateway.networking.x-k8s.io_xmeshes.yaml`,
  FleetConfig: 'gatefleet/gatefleet.io_fleetconfigs.yaml',
};

/**
 * The CRD directory: `controller/apis/crds` next to this module when it runs
 * from source, and the same directory of the repository when it runs from
 * `dist/` (the YAML is not copied into the build).
 */
export function defaultCrdDir(): string {
  const candidates = [
    new URL('../apis/crds/', import.meta.url),
    new URL('../../../controller/apis/crds/', import.meta.url),
  ];
  for (const c of candidates) {
    const p = fileURLToPath(c);
    if (existsSync(p)) return p;
  }
  return fileURLToPath(candidates[0]!);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads one CRD file (it may hold other documents too) and returns the CRD of `kind`. */
export function loadCrd(dir: string, kind: string): Crd | undefined {
  const rel = CRD_FILES[kind];
  if (rel === undefined) return undefined;
  const file = dir.endsWith('/') ? dir + rel : `${dir}/${rel}`;
  const text = readFileSync(file, 'utf8');
  for (const doc of parseAllDocuments(text)) {
    const o: unknown = doc.toJS();
    if (!isRecord(o) || o.kind !== 'CustomResourceDefinition' || !isRecord(o.spec)) continue;
    const spec = o.spec;
    const names = isRecord(spec.names) ? spec.names : {};
    if (names.kind !== kind) continue;
    const versions: CrdVersion[] = [];
    for (const v of Array.isArray(spec.versions) ? spec.versions : []) {
      if (!isRecord(v) || typeof v.name !== 'string') continue;
      const schema = isRecord(v.schema) ? v.schema.openAPIV3Schema : undefined;
      if (!isRecord(schema)) continue;
      const sub = isRecord(v.subresources) ? v.subresources : {};
      versions.push({
        name: v.name,
        served: v.served !== false,
        schema,
        statusSubresource: sub.status !== undefined,
      });
    }
    return {
      group: String(spec.group),
      kind,
      namespaced: spec.scope !== 'Cluster',
      versions,
      file,
    };
  }
  return undefined;
}
