// Translator golden files: test/golden/translator/<scenario>.in.yaml holds the
// input objects, <scenario>.out.yaml the statuses and IR that `gatefleet
// translate --to status,ir` prints for them. Regenerate with `npm run golden`.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { renderTranslation } from '../../cli/render.js';
import { parseYamlDocuments } from '../../controller/providers/yaml-documents.js';
import { translate } from '../../controller/translator/index.js';
import { expectGolden } from '../support/golden.js';

export const GOLDEN_DIR = join(import.meta.dirname, 'translator');
export const GOLDEN_NOW = '2026-01-01T00:00:00Z';

export function scenarios(): string[] {
  return readdirSync(GOLDEN_DIR)
    .filter((f) => f.endsWith('.in.yaml'))
    .map((f) => f.slice(0, -'.in.yaml'.length))
    .sort();
}

describe('translator golden files', () => {
  for (const name of scenarios()) {
    it(name, () => {
      const file = join(GOLDEN_DIR, `${name}.in.yaml`);
      const parsed = parseYamlDocuments(readFileSync(file, 'utf8'), `${name}.in.yaml`);
      const result = translate(parsed.inputs, { now: GOLDEN_NOW });
      result.diagnostics.unshift(...parsed.diagnostics);
      const out = renderTranslation(parsed.inputs, result, {
        to: ['status', 'ir'],
        format: 'yaml',
      });
      expectGolden(join(GOLDEN_DIR, `${name}.out.yaml`), out);
    });
  }
});
