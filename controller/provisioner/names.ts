// Names and labels of the objects a node group runs on.
//
// Object names: `<readable>-<hash8>`, where `hash8` is the first 8 hex digits
// of the SHA-256 of the node group name (`ns/gw`, `ns/gw#shard`,
// `merged:name[#shard]`, unique in the cluster) and `readable` is the
// Gateway's (or merged fleet's) name, plus `-<shard>`, lower-cased, with
// every character outside [a-z0-9-] turned into `-`, prefixed with `gw-`
// unless it starts with a letter, and cut to 54 characters. The result is a
// DNS-1035 label of at most 63 characters (valid for Services, the strictest
// kind) and deterministic. The hash is always there because the readable part
// alone is ambiguous (Gateway `a` shard `b` and Gateway `a-b` both read
// `a-b`); two node groups of one namespace share a name only on a 32-bit hash
// collision, which the provisioner detects and reports rather than fights.
// Every kind of a node group uses the same name, except the client
// certificate Secret: `<name>-xds-client`.
//
// Labels (gatefleet's own win over infrastructure labels with the same key):
// - app.kubernetes.io/managed-by: gatefleet, app.kubernetes.io/name:
//   gatefleet-gateway
// - gatefleet.io/controller-namespace: the controller's namespace. Pruning
//   selects on it, so two installations never delete each other's objects.
// - gatefleet.io/fleet, gatefleet.io/node-group: 16 hex digits of the
//   SHA-256 of the fleet / node group name (the names hold `/`, `:` and `#`,
//   which no label value may). The full names are in annotations of the same
//   keys. gatefleet.io/node-group is the Deployment's (immutable) selector:
//   it never changes for a node group.
// - gateway.networking.k8s.io/gateway-name: the Gateway's name (GEP-1762;
//   conformance finds generated objects by it), for a Gateway's own fleet.
//   A merged fleet serves several Gateways and a label holds one value, so it
//   carries gatefleet.io/merged-fleet: <name> instead.
// - gatefleet.io/shard: the shard, for a sharded fleet's node groups.
// Values that may exceed 63 characters (Gateway names) are cut and end with a
// hash (labelValue).
import { createHash } from 'node:crypto';
import type { Fleet, NodeGroup } from '../ir/types.js';
import { MERGED_FLEET_PREFIX } from '../translator/gateways.js';

export const Label = {
  ManagedBy: 'app.kubernetes.io/managed-by',
  Name: 'app.kubernetes.io/name',
  ControllerNamespace: 'gatefleet.io/controller-namespace',
  Fleet: 'gatefleet.io/fleet',
  NodeGroup: 'gatefleet.io/node-group',
  GatewayName: 'gateway.networking.k8s.io/gateway-name',
  MergedFleet: 'gatefleet.io/merged-fleet',
  Shard: 'gatefleet.io/shard',
} as const;

export const MANAGED_BY = 'gatefleet';
export const APP_NAME = 'gatefleet-gateway';

export const Annotation = {
  /** The full fleet name. */
  Fleet: 'gatefleet.io/fleet',
  /** The full node group name (what the gateways present as node.cluster). */
  NodeGroup: 'gatefleet.io/node-group',
  /** Pod template: hash of the ConfigMap and Secret contents the pods read at start. */
  ConfigHash: 'gatefleet.io/config-hash',
} as const;

const MAX_LABEL = 63;
const NAME_HASH = 8;
const LABEL_HASH = 16;

export function shortHash(s: string, hexDigits: number): string {
  return createHash('sha256').update(s).digest('hex').slice(0, hexDigits);
}

/** The Gateway's name for a Gateway's own fleet (`ns/gw`), undefined for a merged fleet. */
export function ownGatewayName(fleet: Fleet): string | undefined {
  if (fleet.name.startsWith(MERGED_FLEET_PREFIX)) return undefined;
  return fleet.name.slice(fleet.name.indexOf('/') + 1);
}

/** The merged fleet's name (`merged:<name>`), undefined for a Gateway's own fleet. */
export function mergedFleetName(fleet: Fleet): string | undefined {
  return fleet.name.startsWith(MERGED_FLEET_PREFIX)
    ? fleet.name.slice(MERGED_FLEET_PREFIX.length)
    : undefined;
}

function readablePart(fleet: Fleet, group: NodeGroup): string {
  const base = ownGatewayName(fleet) ?? mergedFleetName(fleet) ?? fleet.name;
  let s = (group.shard ? `${base}-${group.shard}` : base).toLowerCase().replace(/[^a-z0-9-]/g, '-');
  if (!/^[a-z]/.test(s)) s = `gw-${s}`;
  return s.slice(0, MAX_LABEL - NAME_HASH - 1).replace(/-+$/, '');
}

/** The name every object of the node group carries (a DNS-1035 label, ≤ 63 characters). */
export function objectName(fleet: Fleet, group: NodeGroup): string {
  return `${readablePart(fleet, group)}-${shortHash(group.name, NAME_HASH)}`;
}

/** The node group's xDS client certificate Secret. */
export function clientSecretName(base: string): string {
  return `${base}-xds-client`;
}

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** `s` when it is a valid label value; else its first characters and a hash (≤ 63, valid). */
export function labelValue(s: string): string {
  if (s.length <= MAX_LABEL && LABEL_VALUE.test(s)) return s;
  const head = s
    .replace(/[^-A-Za-z0-9_.]/g, '-')
    .slice(0, MAX_LABEL - NAME_HASH - 1)
    .replace(/^[^A-Za-z0-9]+/, '');
  return `${head}${head ? '-' : ''}${shortHash(s, NAME_HASH)}`;
}

export function fleetLabel(fleetName: string): string {
  return shortHash(fleetName, LABEL_HASH);
}

export function nodeGroupLabel(nodeGroup: string): string {
  return shortHash(nodeGroup, LABEL_HASH);
}

/** The labels that select a node group's pods (the Deployment selector and the Service selector). */
export function selectorLabels(group: NodeGroup): Record<string, string> {
  return { [Label.NodeGroup]: nodeGroupLabel(group.name) };
}

/**
 * Every label of the node group's objects and pods: the fleet's
 * infrastructure labels under gatefleet's own (gatefleet's win a clash, or
 * selection and pruning would break). Keys sorted.
 */
export function objectLabels(
  fleet: Fleet,
  group: NodeGroup,
  controllerNamespace: string,
): Record<string, string> {
  const own: Record<string, string> = {
    [Label.ManagedBy]: MANAGED_BY,
    [Label.Name]: APP_NAME,
    [Label.ControllerNamespace]: controllerNamespace,
    [Label.Fleet]: fleetLabel(fleet.name),
    [Label.NodeGroup]: nodeGroupLabel(group.name),
  };
  const gateway = ownGatewayName(fleet);
  if (gateway !== undefined) own[Label.GatewayName] = labelValue(gateway);
  const merged = mergedFleetName(fleet);
  if (merged !== undefined) own[Label.MergedFleet] = labelValue(merged);
  if (group.shard) own[Label.Shard] = labelValue(group.shard);
  return sortedRecord({ ...fleet.infrastructure.labels, ...own });
}

/** The fleet's infrastructure annotations under gatefleet's own (full fleet and node group names). */
export function objectAnnotations(fleet: Fleet, group: NodeGroup): Record<string, string> {
  return sortedRecord({
    ...fleet.infrastructure.annotations,
    [Annotation.Fleet]: fleet.name,
    [Annotation.NodeGroup]: group.name,
  });
}

export function sortedRecord(r: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(r).sort()) out[k] = r[k]!;
  return out;
}

/** The label selector that finds every object this installation owns. */
export function ownedSelector(controllerNamespace: string): string {
  return `${Label.ManagedBy}=${MANAGED_BY},${Label.ControllerNamespace}=${controllerNamespace},${Label.Fleet}`;
}
