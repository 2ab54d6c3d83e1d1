// RouteConfigurations are encoded virtual host by virtual host (memoised) and
// spliced: the bytes must be exactly those of encoding the whole message, so
// versions do not depend on how a resource was encoded, and an unchanged
// virtual host is not encoded again.
import { describe, expect, it } from 'vitest';
import { generateCluster } from '../../bench/fixtures.js';
import { inputsOf, translate } from '../../controller/translator/index.js';
import { irToResources } from '../../xds/publish.js';
import { TypeUrl } from '../../xds/proto/root.js';
import { EncodeMemo, encodeResource, hash } from '../../xds/snapshot.js';

const routeConfigurations = () =>
  irToResources(
    translate(inputsOf(generateCluster({ routes: 40, gateways: 2 })), {
      now: '2026-01-01T00:00:00Z',
    }).ir,
  ).flatMap((g) =>
    (g.resources.get(TypeUrl.RouteConfiguration) ?? []).map(
      (r) => r.resource as Record<string, unknown>,
    ),
  );

describe('RouteConfiguration encoding', () => {
  it('gives the bytes and version of encoding the whole message', () => {
    const rcs = routeConfigurations();
    expect(rcs.length).toBeGreaterThan(1);
    const extra = {
      ...rcs[0]!,
      ignore_port_in_host_matching: true,
      validate_clusters: { value: false },
    };
    const { name: _name, ...nameless } = rcs[1]!;
    for (const rc of [...rcs, extra, nameless, { name: 'empty', virtual_hosts: [] }]) {
      const whole = encodeResource(TypeUrl.RouteConfiguration, rc);
      const e = new EncodeMemo().get(TypeUrl.RouteConfiguration, rc);
      expect(Buffer.from(e.bytes).equals(Buffer.from(whole))).toBe(true);
      expect(e.version).toBe(hash(whole));
    }
  });

  it('encodes an unchanged virtual host once across snapshots', () => {
    const [rc] = routeConfigurations();
    const first = new EncodeMemo();
    const whole = first.get(TypeUrl.RouteConfiguration, rc!);
    const vhosts = rc!.virtual_hosts as Record<string, unknown>[];
    expect(first.entries.size).toBe(vhosts.length + 2); // name, every virtual host, the rest
    // The next snapshot: the same virtual host objects but the first, which
    // comes back as a new object with the same content (a rebuilt resource).
    const next = new EncodeMemo(first.entries);
    const changed = { ...rc!, virtual_hosts: [structuredClone(vhosts[0]!), ...vhosts.slice(1)] };
    const again = next.get(TypeUrl.RouteConfiguration, changed);
    expect(Buffer.from(again.bytes).equals(Buffer.from(whole.bytes))).toBe(true);
    // Objects seen before are found by identity, without being serialised
    // again; only the new ones go through the content memo (and hit it).
    expect(next.entries.size).toBe(3);
    const [vhKey] = [...next.entries.keys()].filter((k) => k.includes(String(vhosts[0]!.name)));
    expect(next.entries.get(vhKey!)).toBe(first.entries.get(vhKey!));
  });
});
