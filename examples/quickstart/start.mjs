#!/usr/bin/env node
// `npm start`: the quick start. Starts the echo backends the example routes
// point at, runs `gatefleet run` on ./config, waits until every fleet and
// shard has applied its configuration, and prints curl commands that show the
// three topologies at work. Ctrl-C stops everything.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, '..', '..', 'dist', 'cli', 'main.js');
const admin = process.env.GATEFLEET_ADMIN ?? '127.0.0.1:9090';
const children = [];

function start(args, name) {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  child.stderr.on('data', (d) => process.stderr.write(`[${name}] ${d}`));
  child.on('exit', (code) => {
    if (!stopping) {
      process.stderr.write(`${name} exited (${code}); stopping\n`);
      stop(1);
    }
  });
  return child;
}

let stopping = false;
function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  for (const c of children) c.kill('SIGTERM');
  setTimeout(() => process.exit(code), 3000).unref();
  Promise.all(
    children.map((c) => new Promise((r) => (c.exitCode !== null ? r() : c.once('exit', r)))),
  ).then(() => process.exit(code));
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

const backends = [
  ['store-1', 'store', 9101],
  ['search-1', 'search', 9102],
  ['accounts-1', 'accounts', 9103],
  ['payments-1', 'payments', 9104],
  ['payments-canary-1', 'payments', 9105],
];
for (const [pod, namespace, port] of backends) {
  start(['echo', '--port', String(port), '--pod', pod, '--namespace', namespace], pod);
}
const controller = start(['run', '--config', join(here, 'config'), '--admin', admin], 'gatefleet');
let logs = '';
controller.stdout.on('data', (d) => {
  logs += d;
  if (process.env.GATEFLEET_QUICKSTART_LOGS) process.stdout.write(d);
});

async function get(path) {
  const r = await fetch(`http://${admin}${path}`);
  if (!r.ok) throw new Error(`${path}: ${r.status}`);
  return r.json();
}

async function waitApplied() {
  const until = Date.now() + 60_000;
  for (;;) {
    try {
      const f = await get('/fleet');
      const groups = f.nodeGroups;
      if (
        groups.length > 0 &&
        groups.every(
          (g) => g.nodes.length > 0 && g.nodes.every((n) => n.appliedVersion === g.version),
        )
      )
        return groups;
    } catch {
      // not up yet
    }
    if (Date.now() > until)
      throw new Error(`the fleet did not come up in 60 s; controller log:\n${logs}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const groups = await waitApplied().catch((e) => {
  process.stderr.write(`${e.message}\n`);
  stop(1);
  return undefined;
});
if (groups) {
  const addr = (name) => groups.find((g) => g.name === name)?.address;
  const shared = addr('infra/shared');
  const pay = addr('payments/payments');
  const dmz = addr('infra/edge#dmz');
  const internal = addr('infra/edge#internal');
  process.stdout.write(`
gatefleet is running: ${groups.length} node groups, each its own gateway process.

1. A shared gateway (infra/shared, ${shared}): routes from three namespaces on one fleet.
   curl -s -H 'Host: store.example.com'    http://${shared}:8080/     # → pod store-1
   curl -s -H 'Host: search.example.com'   http://${shared}:8080/     # → pod search-1, Cache-Control set
   curl -si -H 'Host: accounts.example.com' http://${shared}:8080/login # → 301 to https

2. A gateway per service (payments/payments, ${pay}): its own process, scales and fails alone.
   curl -s -H 'Host: pay.example.com' http://${pay}:8080/     # → payments-1 (90%) or payments-canary-1 (10%)

3. Sharded gateways (infra/edge): the DMZ shard loads only routes labelled gatefleet.io/shard=dmz.
   curl -s  -H 'Host: api.corp.example.com'   http://${dmz}:8080/        # DMZ shard: public API → store-1
   curl -si -H 'Host: admin.corp.example.com' http://${dmz}:8080/        # DMZ shard: 404, admin is internal only
   curl -s  -H 'Host: admin.corp.example.com' http://${internal}:8080/   # internal shard: → accounts-1

Status of everything (conditions, which gateway applied which version):
   node dist/cli/main.js status --admin ${admin}

Edit the YAML in examples/quickstart/config and watch it apply. Ctrl-C stops.
`);
}
