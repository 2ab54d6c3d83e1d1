// Object names and label values of provisioned objects: valid for every
// Gateway name, shard and merged fleet the API allows, deterministic, and
// distinct where the readable part alone would collide.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Fleet, NodeGroup } from '../../controller/ir/types.js';
import {
  Label,
  clientSecretName,
  labelValue,
  objectLabels,
  objectName,
  selectorLabels,
} from '../../controller/provisioner/names.js';

const DNS1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function fleetOf(name: string, gateways: [string, string][], shards: string[] = []): Fleet {
  const groups: NodeGroup[] = (shards.length ? shards : [undefined]).map((shard) => ({
    name: shard ? `${name}#${shard}` : name,
    ...(shard ? { shard } : {}),
    replicas: 1,
    listeners: [],
    clusters: [],
    secrets: [],
  }));
  return {
    name,
    gateways: gateways.map(([namespace, gw]) => ({ namespace, name: gw })),
    infrastructure: {
      labels: { team: 'a', [Label.ManagedBy]: 'intruder' },
      annotations: {},
      addresses: [],
    },
    deployment: { replicas: 1, serviceType: 'LoadBalancer', dataPlane: 'gatefleet' },
    nodeGroups: groups,
  };
}

const label = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
const subdomain = fc
  .array(label, { minLength: 1, maxLength: 5 })
  .map((parts) =>
    parts
      .join('.')
      .slice(0, 253)
      .replace(/[-.]+$/, ''),
  )
  .filter((s) => DNS1123_SUBDOMAIN.test(s));

describe('provisioner names', () => {
  it('every node group gets a DNS-1035 label of at most 63 characters; the Secret name is a valid name too', () => {
    fc.assert(
      fc.property(label, subdomain, fc.option(label, { nil: undefined }), (ns, gw, shard) => {
        const fleet = fleetOf(`${ns}/${gw}`, [[ns, gw]], shard ? [shard] : []);
        for (const g of fleet.nodeGroups) {
          const n = objectName(fleet, g);
          expect(n.length).toBeLessThanOrEqual(63);
          expect(n).toMatch(DNS1035);
          expect(objectName(fleet, g)).toBe(n);
          expect(clientSecretName(n)).toMatch(DNS1123_SUBDOMAIN);
          for (const [k, v] of Object.entries(objectLabels(fleet, g, 'gatefleet-system'))) {
            expect(v, k).toMatch(LABEL_VALUE);
            expect(v.length, k).toBeLessThanOrEqual(63);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('names that read the same are still distinct', () => {
    const sharded = fleetOf('infra/a', [['infra', 'a']], ['b']);
    const plain = fleetOf('infra/a-b', [['infra', 'a-b']]);
    const merged = fleetOf('merged:a-b', [['infra', 'x']]);
    const dotted = fleetOf('infra/a.b', [['infra', 'a.b']]);
    const names = [sharded, plain, merged, dotted].map((f) => objectName(f, f.nodeGroups[0]!));
    expect(names.map((n) => n.replace(/-[0-9a-f]{8}$/, ''))).toEqual(['a-b', 'a-b', 'a-b', 'a-b']);
    expect(new Set(names).size).toBe(4);
  });

  it('long names are cut and keep a hash, so two long names that share a prefix differ', () => {
    const long = 'g'.repeat(200);
    const a = fleetOf(`infra/${long}a`, [['infra', `${long}a`]]);
    const b = fleetOf(`infra/${long}b`, [['infra', `${long}b`]]);
    const na = objectName(a, a.nodeGroups[0]!);
    const nb = objectName(b, b.nodeGroups[0]!);
    expect(na).toHaveLength(63);
    expect(na.slice(0, 54)).toBe(nb.slice(0, 54));
    expect(na).not.toBe(nb);
    expect(labelValue(`${long}a`)).not.toBe(labelValue(`${long}b`));
    expect(labelValue('short.name')).toBe('short.name');
  });

  it("labels: gatefleet's own win a clash; the selector is the node group's hash alone", () => {
    const f = fleetOf('infra/web', [['infra', 'web']], ['dmz']);
    const g = f.nodeGroups[0]!;
    const labels = objectLabels(f, g, 'gatefleet-system');
    expect(labels[Label.ManagedBy]).toBe('gatefleet');
    expect(labels.team).toBe('a');
    expect(labels[Label.GatewayName]).toBe('web');
    expect(labels[Label.Shard]).toBe('dmz');
    expect(Object.keys(selectorLabels(g))).toEqual([Label.NodeGroup]);
    expect(selectorLabels(g)[Label.NodeGroup]).toBe(labels[Label.NodeGroup]);
    const merged = fleetOf('merged:edge', [['infra', 'web']]);
    const ml = objectLabels(merged, merged.nodeGroups[0]!, 'gatefleet-system');
    expect(ml[Label.GatewayName]).toBeUndefined();
    expect(ml[Label.MergedFleet]).toBe('edge');
  });
});
