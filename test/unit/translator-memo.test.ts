// TranslationMemo's contract: translating with the memo of earlier
// translations gives exactly what translating from scratch gives, whatever
// changed in between; and what did not change keeps its IR objects.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  inputsOf,
  translate,
  TranslationMemo,
  type TranslateResult,
} from '../../controller/translator/index.js';
import { generateCluster, routeObjects } from '../../bench/fixtures.js';
import { objects } from '../support/cluster-arbitrary.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseYamlDocuments } from '../../controller/providers/yaml-documents.js';
import type { InputObject } from '../../controller/translator/index.js';

const NOW = '2026-01-01T00:00:00Z';
type Obj = Record<string, unknown>;

function idOf(o: Obj): string {
  const m = o.metadata as { name: string; namespace?: string };
  return `${String(o.kind)}/${m.namespace ?? ''}/${m.name}`;
}

function expectSame(withMemo: TranslateResult, fresh: TranslateResult): void {
  expect(JSON.stringify(withMemo.ir)).toBe(JSON.stringify(fresh.ir));
  expect(JSON.stringify(withMemo.statuses)).toBe(JSON.stringify(fresh.statuses));
  expect(JSON.stringify(withMemo.diagnostics)).toBe(JSON.stringify(fresh.diagnostics));
}

/**
 * The next cluster: each current object dropped, kept (same object), or
 * replaced by an equal copy (a new object, as a re-read file gives); then
 * the fresh objects, which replace current ones with the same identity.
 */
function nextCluster(current: Obj[], fresh: Obj[], choices: number[]): Obj[] {
  const byId = new Map<string, Obj>();
  current.forEach((o, i) => {
    const c = choices.length === 0 ? 1 : choices[i % choices.length]! % 4;
    if (c === 0) return;
    byId.set(idOf(o), c === 3 ? structuredClone(o) : o);
  });
  for (const o of fresh) byId.set(idOf(o), o);
  return [...byId.values()];
}

describe('TranslationMemo', () => {
  it('gives the output of a translation from scratch after any sequence of changes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(objects, fc.array(fc.nat(), { maxLength: 8 }), fc.boolean()), {
          minLength: 2,
          maxLength: 6,
        }),
        (steps) => {
          const memo = new TranslationMemo();
          let current: Obj[] = [];
          for (const [generated, choices, takeFresh] of steps) {
            // Half of the steps change little: only some fresh objects come in.
            const fresh = (generated as Obj[]).filter((_, i) => takeFresh || i % 3 === 0);
            current = nextCluster(current, fresh, choices);
            const withMemo = translate(inputsOf(current), { now: NOW, memo });
            expectSame(withMemo, translate(inputsOf(current), { now: NOW }));
            // Translating the same objects again reuses everything.
            const again = translate(inputsOf(current), { now: NOW, memo });
            expectSame(again, withMemo);
            again.ir.fleets.forEach((f, i) =>
              f.nodeGroups.forEach((g, j) => expect(g).toBe(withMemo.ir.fleets[i]!.nodeGroups[j])),
            );
          }
        },
      ),
      { numRuns: 250, endOnFailure: true },
    );
  });

  it('gives the from-scratch output on every golden scenario with each object removed, then restored', () => {
    // Every kind the translator reads (ConfigMaps, BackendTLSPolicies, FleetConfigs, …) is in
    // some scenario, so a memo that misses a dependency fails here whatever it belongs to.
    const dir = join(import.meta.dirname, '..', 'golden', 'translator');
    const scenarios = readdirSync(dir).filter((f) => f.endsWith('.in.yaml'));
    expect(scenarios.length).toBeGreaterThan(100);
    for (const file of scenarios) {
      const { inputs } = parseYamlDocuments(readFileSync(join(dir, file), 'utf8'), file);
      const memo = new TranslationMemo();
      const step = (list: readonly InputObject[]) => {
        const withMemo = translate(list, { now: NOW, memo });
        expectSame(withMemo, translate(list, { now: NOW }));
      };
      step(inputs);
      for (let i = 0; i < inputs.length; i++) {
        step(inputs.filter((_, j) => j !== i));
        step(inputs);
      }
    }
  });

  describe('at scale (the benchmark cluster, 200 routes over 20 Gateways)', () => {
    const base = generateCluster({ routes: 200 }) as Obj[];
    const groupOf = (r: TranslateResult, name: string) =>
      r.ir.fleets.flatMap((f) => f.nodeGroups).find((g) => g.name === name)!;
    const groupNames = (r: TranslateResult) =>
      r.ir.fleets.flatMap((f) => f.nodeGroups.map((g) => g.name));

    /** `changedGroups`: the node groups rebuilt (the others keep their objects); undefined: unchecked. */
    function check(
      edit: (objs: Obj[]) => Obj[],
      changedGroups: string[] | undefined,
      start: Obj[] = base,
    ): void {
      const memo = new TranslationMemo();
      const before = translate(inputsOf(start), { now: NOW, memo });
      const edited = edit([...start]);
      const after = translate(inputsOf(edited), { now: NOW, memo });
      expectSame(after, translate(inputsOf(edited), { now: NOW }));
      if (!changedGroups) return;
      for (const name of groupNames(after)) {
        if (changedGroups.includes(name))
          expect(groupOf(after, name), name).not.toBe(groupOf(before, name));
        else expect(groupOf(after, name), name).toBe(groupOf(before, name));
      }
    }

    const replace = (objs: Obj[], kind: string, name: string, next: (o: Obj) => Obj | undefined) =>
      objs.flatMap((o) => {
        if (o.kind !== kind || (o.metadata as { name: string }).name !== name) return [o];
        const n = next(o);
        return n ? [n] : [];
      });

    it('an edited route rebuilds only its Gateway’s node group', () => {
      check(
        (objs) => replace(objs, 'HTTPRoute', 'route-0', () => routeObjects(0, 100, 20, 1)[0]!),
        ['infra/gw-0'],
      );
    });

    it('a deleted route, an endpoint change and a Service change rebuild their groups', () => {
      check((objs) => replace(objs, 'HTTPRoute', 'route-21', () => undefined), ['infra/gw-1']);
      check(
        (objs) =>
          replace(objs, 'EndpointSlice', 'svc-42-abc', (o) => ({
            ...o,
            endpoints: [{ addresses: ['10.9.9.9'], conditions: { ready: true } }],
          })),
        ['infra/gw-2'],
      );
      check(
        (objs) =>
          replace(objs, 'Service', 'svc-3', (o) => ({
            ...o,
            spec: { ports: [{ name: 'http', port: 80, appProtocol: 'kubernetes.io/h2c' }] },
          })),
        ['infra/gw-3'],
      );
    });

    it('a ReferenceGrant removed or added re-resolves the unchanged route that relied on it', () => {
      // route-0 (team-0, gw-0) also sends to svc-1 in team-1, which a grant allows.
      const crossNamespace = replace(base, 'HTTPRoute', 'route-0', (o) => {
        const spec = structuredClone(o.spec) as { rules: { backendRefs: unknown[] }[] };
        spec.rules[1]!.backendRefs.push({ name: 'svc-1', namespace: 'team-1', port: 80 });
        return { ...o, spec };
      });
      const grant = {
        apiVersion: 'gateway.networking.k8s.io/v1beta1',
        kind: 'ReferenceGrant',
        metadata: { name: 'from-team-0', namespace: 'team-1' },
        spec: {
          from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'team-0' }],
          to: [{ group: '', kind: 'Service' }],
        },
      };
      const withGrant = [...crossNamespace, grant];
      check((objs) => objs.filter((o) => o !== grant), ['infra/gw-0'], withGrant);
      check((objs) => [...objs, grant], ['infra/gw-0'], crossNamespace);
    });

    it('a Namespace relabelled re-attaches unchanged routes', () => {
      // gw-*'s HTTP listeners select namespaces labelled bench/tenant=true.
      check(
        (objs) =>
          replace(objs, 'Namespace', 'team-5', (o) => ({ ...o, metadata: { name: 'team-5' } })),
        // team-5 holds routes 5, 105, …: on gw-5 and gw-25 % 20 = gw-5 (every 100th route is).
        ['infra/gw-5'],
      );
    });

    it('a Service port renamed re-resolves its endpoints (slices name the port)', () => {
      check(
        (objs) =>
          replace(objs, 'Service', 'svc-7', (o) => ({
            ...o,
            spec: {
              ports: [
                { name: 'web', port: 80 },
                { name: 'canary', port: 81 },
              ],
            },
          })),
        ['infra/gw-7'],
      );
    });

    it('a new generation or new labels with the same spec object update statuses and shards', () => {
      check(
        (objs) =>
          replace(objs, 'HTTPRoute', 'route-8', (o) => ({
            ...o,
            metadata: { ...(o.metadata as object), generation: 9 },
          })),
        undefined,
      );
      check(
        (objs) =>
          replace(objs, 'HTTPRoute', 'route-8', (o) => ({
            ...o,
            metadata: { ...(o.metadata as object), labels: { shard: 'dmz' } },
          })),
        undefined,
      );
    });

    it('a route re-read from the API server at the same uid and generation is not re-analysed', () => {
      const withUids = base.map((o) =>
        o.kind === 'HTTPRoute'
          ? { ...o, metadata: { ...(o.metadata as object), uid: `uid-${idOf(o)}` } }
          : o,
      );
      // A status write: new objects throughout, a new resourceVersion, the same spec content.
      const reread = (o: Obj): Obj => ({
        ...structuredClone(o),
        metadata: { ...structuredClone(o.metadata as object), resourceVersion: '99' },
      });
      check((objs) => replace(objs, 'HTTPRoute', 'route-9', reread), [], withUids);
      // Without a uid, a new spec object is a new spec.
      check((objs) => replace(objs, 'HTTPRoute', 'route-9', reread), ['infra/gw-9']);
    });

    it('a re-read, unchanged object changes nothing', () => {
      check((objs) => objs.map((o) => (o.kind === 'HTTPRoute' ? { ...o } : o)), []);
    });
  });
});
