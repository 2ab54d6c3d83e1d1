// A node group's resources as they go on the wire, printed as proto3 JSON:
// each resource is encoded, decoded and printed, so the dump shows exactly
// what a gateway receives. Used by `gatefleet translate --to xds` and the xDS
// golden files.
import type { IR } from '../controller/ir/types.js';
import { toProto3Json } from './proto/json.js';
import { PUSH_ORDER, TypeUrl, typeOfUrl, type TypeUrlValue } from './proto/root.js';
import { irToResources } from './publish.js';
import { buildSnapshot, encodeResource } from './snapshot.js';

export const REDACTED = '<redacted>';

const SECTION: Record<TypeUrlValue, string> = {
  [TypeUrl.Cluster]: 'clusters',
  [TypeUrl.ClusterLoadAssignment]: 'endpoints',
  [TypeUrl.Secret]: 'secrets',
  [TypeUrl.Listener]: 'listeners',
  [TypeUrl.RouteConfiguration]: 'routes',
};

export interface NodeGroupDump {
  nodeGroup: string;
  fleet: string;
  /** The snapshot version gateways of this group report applying. */
  version: string;
  [section: string]: unknown;
}

function redactSecret(json: unknown): unknown {
  const s = json as { tlsCertificate?: { privateKey?: { inlineString?: string } } };
  if (s.tlsCertificate?.privateKey?.inlineString !== undefined) {
    return {
      ...s,
      tlsCertificate: { ...s.tlsCertificate, privateKey: { inlineString: REDACTED } },
    };
  }
  return json;
}

export function dumpXds(ir: IR, opts: { showSecrets?: boolean } = {}): NodeGroupDump[] {
  return irToResources(ir).map((g) => {
    const dump: NodeGroupDump = {
      nodeGroup: g.nodeGroup,
      fleet: g.fleet,
      version: buildSnapshot(g.nodeGroup, g.resources).version,
    };
    for (const typeUrl of PUSH_ORDER) {
      const type = typeOfUrl(typeUrl);
      dump[SECTION[typeUrl]] = (g.resources.get(typeUrl) ?? []).map(({ resource }) => {
        const json = toProto3Json(type, type.decode(encodeResource(typeUrl, resource)));
        return typeUrl === TypeUrl.Secret && !opts.showSecrets ? redactSecret(json) : json;
      });
    }
    return dump;
  });
}
