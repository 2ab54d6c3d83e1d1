// The generated Gateway API types must match the committed CRDs, and the
// experimental channel they are generated from must contain the standard one.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import * as envoy from '../../hack/codegen/gen-envoy-types.mjs';
import { describe, expect, it } from 'vitest';
import {
  crdSchema,
  generate,
  outFile,
  sources,
} from '../../hack/codegen/gen-gateway-api-types.mjs';

type Schema = { properties?: Record<string, Schema>; items?: Schema };

/** Every property path of a schema, e.g. `spec.rules[].matches[].path`. */
function paths(s: Schema, prefix = ''): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(s.properties ?? {})) {
    const p = prefix ? `${prefix}.${k}` : k;
    out.push(p, ...paths(v, p));
  }
  if (s.items) out.push(...paths(s.items, `${prefix}[]`));
  return out;
}

describe('generated Gateway API types', () => {
  it('are up to date with the CRDs (run `npm run codegen` when this fails)', async () => {
    expect(await generate()).toBe(readFileSync(outFile, 'utf8'));
  });

  it('come from a channel that contains every standard-channel field', () => {
    for (const { file, version } of sources.filter((s) => s.file.startsWith('gateway-api/'))) {
      const exp = new Set(paths(crdSchema(file, version).schema as Schema));
      const std = paths(
        crdSchema(file.replace('/experimental/', '/standard/'), version).schema as Schema,
      );
      expect(std.length).toBeGreaterThan(10);
      expect(std.filter((p) => !exp.has(p))).toEqual([]);
    }
  });
});

describe('generated Envoy types', () => {
  it('are up to date with the protos (run `npm run codegen` when this fails)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gf-envoy-types-'));
    envoy.generate(dir);
    const fresh = envoy.listFiles(dir).map((f) => relative(dir, f));
    expect(fresh.length).toBeGreaterThan(100);
    expect(envoy.listFiles(envoy.outDir).map((f) => relative(envoy.outDir, f))).toEqual(fresh);
    for (const f of fresh) {
      expect(readFileSync(join(envoy.outDir, f), 'utf8'), f).toBe(
        readFileSync(join(dir, f), 'utf8'),
      );
    }
  });
});
