// publishIR reuses by identity: an unchanged IR node group keeps its
// snapshot, and a changed group's unchanged resources keep their encodings.
// What is served must be exactly what building and encoding from scratch
// gives, whatever was reused.
import { describe, expect, it } from 'vitest';
import type { Fleet, IR, NodeGroup } from '../../controller/ir/types.js';
import { inputsOf, translate, TranslationMemo } from '../../controller/translator/index.js';
import { generateCluster, routeObjects } from '../../bench/fixtures.js';
import { SnapshotCache } from '../../xds/cache.js';
import { publishIR } from '../../xds/publish.js';
import { buildNodeGroupResources } from '../../xds/resources/index.js';
import { buildSnapshot, type Snapshot } from '../../xds/snapshot.js';

const NOW = '2026-01-01T00:00:00Z';
type Obj = Record<string, unknown>;

function groups(ir: IR): [Fleet, NodeGroup][] {
  return ir.fleets.flatMap((f) => f.nodeGroups.map((g) => [f, g] as [Fleet, NodeGroup]));
}

/** Every type and resource of `snap` equals a snapshot built and encoded from scratch. */
function expectFromScratch(snap: Snapshot, fleet: Fleet, group: NodeGroup): void {
  const scratch = buildSnapshot(group.name, buildNodeGroupResources(fleet, group));
  expect(snap.version).toBe(scratch.version);
  for (const [type, ts] of scratch.types) {
    const served = snap.types.get(type)!;
    expect(served.version, type).toBe(ts.version);
    for (const [name, r] of ts.resources) {
      const s = served.resources.get(name)!;
      expect(s.version, name).toBe(r.version);
      expect(Buffer.from(s.bytes).equals(Buffer.from(r.bytes)), name).toBe(true);
    }
  }
}

function withRoute(objs: Obj[], i: number, variant: number): Obj[] {
  return objs.map((o) =>
    o.kind === 'HTTPRoute' && (o.metadata as { name: string }).name === `route-${i}`
      ? routeObjects(i, 100, 20, variant)[0]!
      : o,
  );
}

describe('publishIR reuse', () => {
  const base = generateCluster({ routes: 200 }) as Obj[];

  it('keeps unchanged groups’ snapshots and serves exactly the from-scratch encoding of changed ones', () => {
    const memo = new TranslationMemo();
    const cache = new SnapshotCache();
    publishIR(translate(inputsOf(base), { now: NOW, memo }).ir, cache);
    const before = new Map(cache.nodeGroups().map((g) => [g, cache.get(g)!]));

    const edited = withRoute(withRoute(base, 0, 1), 1, 1);
    const ir = translate(inputsOf(edited), { now: NOW, memo }).ir;
    const result = publishIR(ir, cache);
    expect(result.changed).toEqual(['infra/gw-0', 'infra/gw-1']);
    for (const [fleet, group] of groups(ir)) {
      const snap = cache.get(group.name)!;
      if (result.changed.includes(group.name)) expect(snap).not.toBe(before.get(group.name));
      else expect(snap).toBe(before.get(group.name));
      expectFromScratch(snap, fleet, group);
    }
  });

  it('keeps the snapshot of a group rebuilt as new objects with the same content', () => {
    const cache = new SnapshotCache();
    publishIR(translate(inputsOf(base), { now: NOW }).ir, cache);
    const before = cache.get('infra/gw-3')!;
    const result = publishIR(translate(inputsOf(base), { now: NOW }).ir, cache);
    expect(result.changed).toEqual([]);
    expect(cache.get('infra/gw-3')).toBe(before);
  });

  it('rebuilds a reused virtual host when a cluster it sends to changes protocol', () => {
    const cache = new SnapshotCache();
    const ir = translate(inputsOf(base), { now: NOW, memo: new TranslationMemo() }).ir;
    publishIR(ir, cache);
    const [fleet, group] = groups(ir).find(([, g]) => g.name === 'infra/gw-4')!;
    // The same listeners and virtual host objects; one cluster now speaks WebSocket.
    const ws: NodeGroup = {
      ...group,
      clusters: group.clusters.map((c, i) => (i === 0 ? { ...c, protocol: 'websocket' } : c)),
    };
    const next: IR = {
      fleets: ir.fleets.map((f) =>
        f === fleet ? { ...f, nodeGroups: f.nodeGroups.map((g) => (g === group ? ws : g)) } : f,
      ),
    };
    expect(publishIR(next, cache).changed).toEqual(['infra/gw-4']);
    expectFromScratch(cache.get('infra/gw-4')!, fleet, ws);
    const rcs = buildNodeGroupResources(fleet, ws).get(
      'type.googleapis.com/envoy.config.route.v3.RouteConfiguration' as never,
    )!;
    expect(JSON.stringify(rcs)).toContain('"upgrade_type":"websocket"');
  });
});
