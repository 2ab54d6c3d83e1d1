// `npm run bench`: runs every benchmark and prints Markdown tables (the ones
// in the README). Results are also written to bench/results/latest.json.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runGatewayBench } from './gateway-bench.js';
import { runPropagationBench } from './propagation-bench.js';
import { runRouteChurnBench } from './route-churn-bench.js';
import { runStatusBench } from './status-bench.js';
import { runTranslateBench } from './translate-bench.js';
import { runXdsFanoutBench } from './xds-fanout-bench.js';

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

if (want('xds')) {
  const x = await runXdsFanoutBench();
  results.xds = x.rows;
  console.log(`\n## xDS fan-out\n\n${x.markdown}\n`);
}

if (want('gateway')) {
  const g = await runGatewayBench();
  results.gateway = g.rows;
  console.log(`\n## Gateway data plane\n\n${g.markdown}\n`);
}

if (want('status')) {
  const s = await runStatusBench();
  results.status = s.rows;
  console.log(`\n## Status writes (1,000 HTTPRoutes at once)\n\n${s.markdown}\n`);
}

if (want('propagation')) {
  const p = await runPropagationBench();
  results.propagation = p.rows;
  console.log(`\n## New-route propagation (CP-1)\n\n${p.markdown}\n`);
}

if (want('churn')) {
  const c = await runRouteChurnBench(CACHE);
  results.churn = c.rows;
  console.log(`\n## Route change under load (CP-2)\n\n${c.markdown}\n`);
}

// A run of some benchmarks keeps the other benchmarks' last results.
const LATEST = join(ROOT, 'bench', 'results', 'latest.json');
const previous: Record<string, unknown> = existsSync(LATEST)
  ? (JSON.parse(readFileSync(LATEST, 'utf8')) as Record<string, unknown>)
  : {};
mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
writeFileSync(LATEST, `${JSON.stringify({ ...previous, ...results }, null, 2)}\n`);
