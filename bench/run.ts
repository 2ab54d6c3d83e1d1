// `npm run bench`: runs every benchmark and prints Markdown tables (the ones
// in the README). Results are also written to bench/results/latest.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runTranslateBench } from './translate-bench.js';

const ROOT = join(import.meta.dirname, '..', '..');
const CACHE = join(ROOT, '.cache', 'bench');
mkdirSync(CACHE, { recursive: true });

const only = process.argv.slice(2);
const want = (name: string) => only.length === 0 || only.includes(name);
const results: Record<string, unknown> = { date: new Date().toISOString(), node: process.version };

if (want('translate')) {
  const t = runTranslateBench(CACHE);
  results.translate = t.rows;
  console.log(`\n## Translation\n\n${t.markdown}\n`);
}

mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
writeFileSync(
  join(ROOT, 'bench', 'results', 'latest.json'),
  `${JSON.stringify(results, null, 2)}\n`,
);
