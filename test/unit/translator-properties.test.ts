// Property tests: translation never throws on arbitrary schema-valid input,
// and its output depends only on the set of objects, not on their order.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inputsOf, translate } from '../../controller/translator/index.js';
import { objects } from '../support/cluster-arbitrary.js';

const NOW = '2026-01-01T00:00:00Z';

describe('translator properties', () => {
  it('never throws and is deterministic regardless of input order', () => {
    fc.assert(
      fc.property(objects, fc.integer(), (objs, seed) => {
        const a = translate(inputsOf(objs), { now: NOW });
        const shuffled = [...objs].sort(
          (x, y) => hash(JSON.stringify(x), seed) - hash(JSON.stringify(y), seed),
        );
        const b = translate(inputsOf(shuffled), { now: NOW });
        expect(JSON.stringify(b.statuses)).toBe(JSON.stringify(a.statuses));
        expect(JSON.stringify(b.ir)).toBe(JSON.stringify(a.ir));
      }),
      { numRuns: 300 },
    );
  });

  it('does not modify its input objects', () => {
    fc.assert(
      fc.property(objects, (objs) => {
        const before = JSON.stringify(objs);
        translate(inputsOf(objs), { now: NOW });
        expect(JSON.stringify(objs)).toBe(before);
      }),
      { numRuns: 100 },
    );
  });
});

function hash(s: string, seed: number): number {
  let h = seed | 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

describe('translator property generators', () => {
  it('produce inputs that exercise attachment and fleets, not only rejections', () => {
    const samples = fc.sample(objects, { numRuns: 300, seed: 42 });
    const withRoutes = samples.filter((objs) =>
      translate(inputsOf(objs), { now: NOW }).ir.fleets.some((f) =>
        f.nodeGroups.some((g) =>
          g.listeners.some((l) =>
            l.filterChains.some((c) => c.virtualHosts.some((v) => v.routes.length > 0)),
          ),
        ),
      ),
    );
    expect(withRoutes.length).toBeGreaterThan(5);
  });
});
