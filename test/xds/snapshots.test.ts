// Snapshots: deterministic content-hash versions, consistency checks before
// publishing, and the cache's all-or-nothing publication.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { generateCluster } from '../../bench/fixtures.js';
import { inputsOf, translate } from '../../controller/translator/index.js';
import { SnapshotCache } from '../../xds/cache.js';
import { checkConsistency } from '../../xds/consistency.js';
import { TypeUrl } from '../../xds/proto/root.js';
import { irToResources, publishIR } from '../../xds/publish.js';

const NOW = '2026-01-01T00:00:00Z';

describe('snapshots', () => {
  it('get identical versions from identical content, whatever the input order (replicas, restarts)', () => {
    const objs = generateCluster({ routes: 40, namespaces: 4, gateways: 3 });
    const a = new SnapshotCache();
    const b = new SnapshotCache();
    publishIR(translate(inputsOf(objs), { now: NOW }).ir, a);
    publishIR(translate(inputsOf([...objs].reverse()), { now: '2030-01-01T00:00:00Z' }).ir, b);
    expect(a.nodeGroups()).toEqual(['infra/gw-0', 'infra/gw-1', 'infra/gw-2']);
    for (const g of a.nodeGroups()) {
      expect(b.get(g)!.version).toBe(a.get(g)!.version);
      for (const [t, ts] of a.get(g)!.types)
        expect(b.get(g)!.types.get(t)!.version).toBe(ts.version);
    }
  });

  it('report every dangling reference, and an inconsistent group keeps its previous snapshot', () => {
    const objs = generateCluster({ routes: 2, namespaces: 1, gateways: 1 });
    const { ir } = translate(inputsOf(objs), { now: NOW });
    const cache = new SnapshotCache();
    publishIR(ir, cache);
    const good = cache.get('infra/gw-0')!.version;

    const [group] = irToResources(ir);
    const rs = group!.resources;
    rs.set(TypeUrl.ClusterLoadAssignment, rs.get(TypeUrl.ClusterLoadAssignment)!.slice(1));
    rs.set(TypeUrl.Secret, []);
    rs.set(TypeUrl.RouteConfiguration, rs.get(TypeUrl.RouteConfiguration)!.slice(1));
    expect(checkConsistency(rs)).toEqual([
      'Cluster team-0/svc-0/80 has no ClusterLoadAssignment',
      // The API listeners for proxyless gRPC clients name it too.
      'Listener app0.gw0.example.com names RouteConfiguration http-8080, which does not exist',
      'Listener app1.gw0.example.com names RouteConfiguration http-8080, which does not exist',
      'Listener http-8080 names RouteConfiguration http-8080, which does not exist',
      'Listener https-8443 names Secret infra/wildcard-cert, which does not exist',
    ]);

    // The IR of a broken translation: a route sends to a cluster the group lacks.
    const broken = structuredClone(ir);
    broken.fleets[0]!.nodeGroups[0]!.clusters.pop();
    const r = publishIR(broken, cache);
    expect(r.rejected).toHaveLength(1);
    expect(r.rejected[0]!.problems.join('\n')).toMatch(
      /sends to Cluster team-0\/svc-1\/81, which does not exist/,
    );
    expect(cache.get('infra/gw-0')!.version).toBe(good);
  });

  it('a cluster whose client certificate Secret is missing is reported (golden scenario with one)', () => {
    const dir = join(import.meta.dirname, '..', 'golden', 'translator');
    const file = 'gateway-backend-client-certificate-presented-on-tls-clusters.in.yaml';
    const objs = parseAllDocuments(readFileSync(join(dir, file), 'utf8')).map((d) => d.toJS());
    const { ir } = translate(inputsOf(objs), { now: NOW });
    const rs = irToResources(ir).find((g) => g.nodeGroup === 'infra/gw')!.resources;
    expect(checkConsistency(rs)).toEqual([]);
    rs.set(TypeUrl.Secret, []);
    expect(checkConsistency(rs)).toEqual([
      'Cluster infra/secure/443 names Secret infra/client, which does not exist',
    ]);
  });

  it('are not served before the first publication, and publication reports what changed', () => {
    const cache = new SnapshotCache();
    const { ir } = translate(inputsOf(generateCluster({ routes: 2, namespaces: 1, gateways: 2 })), {
      now: NOW,
    });
    expect(cache.isReady()).toBe(false);
    expect(cache.get('infra/gw-0')).toBeUndefined();
    expect(publishIR(ir, cache).changed).toEqual(['infra/gw-0', 'infra/gw-1']);
    expect(cache.isReady()).toBe(true);
    expect(publishIR(ir, cache).changed).toEqual([]);
  });
});

describe('resource encoding', () => {
  it('refuses an Any whose type is not loaded instead of sending it empty', async () => {
    const { encodeResource } = await import('../../xds/snapshot.js');
    expect(() =>
      encodeResource(TypeUrl.Listener, {
        name: 'l',
        filter_chains: [
          {
            transport_socket: {
              name: 't',
              typed_config: { '@type': 'type.googleapis.com/example.Missing' },
            },
          },
        ],
      }),
    ).toThrow(/Missing/);
  });
});
