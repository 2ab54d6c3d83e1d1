// The quick start as `npm start` runs it (after the build): the echo
// backends, `gatefleet run` on examples/quickstart/config, one gateway per
// fleet and shard, and the curl commands it prints — checked with real HTTP.
// `gatefleet status` is checked against it too, and Ctrl-C stops everything.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/backends.js';
import { ROOT, runCli } from '../support/cli.js';
import { eventually } from '../support/gateway-harness.js';
import { httpGet } from '../support/http.js';

describe('the quick start (npm start)', () => {
  let child: ReturnType<typeof spawn>;
  let out = '';
  let admin: string;
  let pids: number[] = [];

  beforeAll(async () => {
    admin = `127.0.0.1:${await freePort()}`;
    child = spawn(process.execPath, [join(ROOT, 'examples', 'quickstart', 'start.mjs')], {
      cwd: ROOT,
      env: { ...process.env, GATEFLEET_ADMIN: admin },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    await eventually(
      () => out.includes('Ctrl-C stops.'),
      'the quick start to print its commands',
      60_000,
    );
  }, 90_000);

  afterAll(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });

  /** The curl commands the quick start printed: `curl ... -H 'Host: h' http://ip:port/path`. */
  const commands = () =>
    [
      ...out.matchAll(/curl -s\S* +-H 'Host: ([^']+)' +http:\/\/([\d.]+):(\d+)(\/\S*) +# (.*)/g),
    ].map((m) => ({
      host: m[1]!,
      address: m[2]!,
      port: Number(m[3]),
      path: m[4]!,
      expect: m[5]!,
    }));

  it('prints curl commands for the three topologies, and each does what it says', async () => {
    const cs = commands();
    expect(cs).toHaveLength(7);
    for (const c of cs) {
      const r = await httpGet(c.port, c.path, c.host, { address: c.address });
      const pod = r.status === 200 ? (JSON.parse(r.body) as { pod: string }).pod : undefined;
      if (c.expect.includes('404')) expect(r.status, c.expect).toBe(404);
      else if (c.expect.includes('301')) {
        expect(r.status, c.expect).toBe(301);
        expect(r.headers.location).toBe(`https://${c.host}/login`);
      } else if (c.expect.includes('payments-canary-1'))
        expect(['payments-1', 'payments-canary-1']).toContain(pod);
      else expect(pod, c.expect).toBe(/→ (?:pod |public API → )?([a-z0-9-]+)/.exec(c.expect)![1]);
    }
  });

  it('shows every resource and the fleet with `gatefleet status`', () => {
    const r = runCli(['status', '--admin', admin]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      /^GATEWAYCLASS +CONDITIONS\ngatefleet +Accepted=True SupportedVersion=True\n/,
    );
    for (const g of ['infra/edge', 'infra/shared', 'payments/payments'])
      expect(r.stdout).toMatch(new RegExp(`${g} +[\\d.,]+ +Accepted=True Programmed=True`));
    expect(r.stdout).toMatch(
      /store\/public-api +infra\/edge +Accepted=True ResolvedRefs=True gatefleet.io\/Sharded=True/,
    );
    for (const g of ['infra/edge#dmz', 'infra/edge#internal', 'infra/shared', 'payments/payments'])
      expect(r.stdout).toMatch(
        new RegExp(`${g} +127\\.0\\.10\\.\\d+ +[0-9a-f]{16} +local/${g} +yes +-`),
      );
  });

  it('stops every process on Ctrl-C', async () => {
    const fleet = (await (await fetch(`http://${admin}/fleet`)).json()) as {
      nodeGroups: { process?: { pid: number } }[];
    };
    pids = fleet.nodeGroups.map((g) => g.process!.pid);
    expect(pids).toHaveLength(4);
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    await eventually(() => pids.every((p) => !alive(p)), 'every gateway to exit');
  });
});
