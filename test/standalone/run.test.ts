// `gatefleet run` as users run it: the real CLI on a temporary directory,
// real gateway processes, real HTTP.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoBackend, freePort, type EchoBackend } from '../support/backends.js';
import { eventually } from '../support/gateway-harness.js';
import { httpGet } from '../support/http.js';
import { gateway, gatewayClass, httpListener, route, service } from '../support/k8s.js';
import { startLoad } from '../support/load.js';
import { StandaloneProcess, tempConfigDir } from './harness.js';

const PORT = 18180;

describe('gatefleet run', () => {
  const cfg = tempConfigDir('gf-run-');
  const stateDir = mkdtempSync(join(tmpdir(), 'gf-run-state-'));
  let a: EchoBackend;
  let b: EchoBackend;
  let run: StandaloneProcess;
  let address: string;
  let ports: { xdsPort: number; adminPort: number };

  const routeTo = (name: string, host: string, backend: string) =>
    route(name, {
      parentRefs: [{ name: 'gw' }],
      hostnames: [host],
      rules: [{ backendRefs: [{ name: backend, port: 80 }] }],
    });
  const pod = async (host: string) => {
    const r = await httpGet(PORT, '/', host, { address });
    return r.status === 200 ? (JSON.parse(r.body) as { pod: string }).pod : `status ${r.status}`;
  };

  beforeAll(async () => {
    a = await echoBackend('a');
    b = await echoBackend('b');
    cfg.write('base.yaml', [
      gatewayClass(),
      gateway('gw', [httpListener(PORT)]),
      routeTo('one', 'one.example', 'svc-a'),
      ...service('svc-a', [a.port]),
      ...service('svc-b', [b.port]),
    ]);
    ports = { xdsPort: await freePort(), adminPort: await freePort() };
    run = await new StandaloneProcess(cfg.dir, {
      ...ports,
      firstAddress: '127.0.40.1',
      stateDir,
    }).start();
    address = (await run.applied(1)).get('default/gw')!;
  }, 60_000);

  afterAll(async () => {
    await run?.kill('SIGTERM');
    await a?.close();
    await b?.close();
  });

  it('serves the directory, reports the Gateway address in its status, and reconfigures when files are added, edited and removed', async () => {
    expect(await pod('one.example')).toBe('a');
    const s = await run.status();
    const gw = s.resources.find((r) => r.kind === 'Gateway')!;
    expect(gw.status.addresses).toEqual([{ type: 'IPAddress', value: address }]);
    cfg.write('two.yaml', [routeTo('two', 'two.example', 'svc-a')]);
    await eventually(async () => (await pod('two.example')) === 'a', 'the added route');
    cfg.write('two.yaml', [routeTo('two', 'two.example', 'svc-b')]);
    await eventually(async () => (await pod('two.example')) === 'b', 'the edited route');
    cfg.remove('two.yaml');
    await eventually(async () => (await pod('two.example')) === 'status 404', 'the removed route');
    expect(await pod('one.example')).toBe('a');
  });

  it('reports an invalid file with its file and line, keeps traffic as it was, and picks up the fix', async () => {
    const load = startLoad(PORT, '/', 'one.example', { address, concurrency: 2 });
    try {
      writeFileSync(
        join(cfg.dir, 'bad.yaml'),
        'apiVersion: v1\nkind: Service\nmetadata: { name: broken\nspec: {}\n',
      );
      const problem = await eventually(
        async () => (await run.status()).diagnostics.find((d) => d.file?.endsWith('bad.yaml')),
        'the diagnostic',
      );
      expect(problem).toMatchObject({ code: 'GF_INPUT_PARSE', line: 1 });
      await eventually(
        () =>
          run.logs.some(
            (l) => typeof l.msg === 'string' && l.msg.includes('bad.yaml:1: invalid YAML'),
          ),
        'the error logged with file and line',
      );
      cfg.write('bad.yaml', [routeTo('three', 'three.example', 'svc-b')]);
      await eventually(async () => (await pod('three.example')) === 'b', 'the fixed file');
      expect((await run.status()).diagnostics).toEqual([]);
    } finally {
      const r = await load.stop();
      expect(r.failures).toEqual([]);
    }
  });

  it('restarts a killed gateway process and configures it again', async () => {
    const before = (await run.fleet()).nodeGroups[0]!.process!.pid!;
    process.kill(before, 'SIGKILL');
    await eventually(
      async () => {
        const f = await run.fleet();
        const g = f.nodeGroups[0]!;
        return g.process?.pid &&
          g.process.pid !== before &&
          g.nodes.some((n) => n.appliedVersion === g.version)
          ? true
          : undefined;
      },
      'a new gateway process, configured',
      30_000,
    );
    expect(await pod('one.example')).toBe('a');
  });

  it('loses no request while the controller is killed and started again', async () => {
    const load = startLoad(PORT, '/', 'one.example', { address, concurrency: 2 });
    try {
      await run.kill('SIGKILL');
      // The gateway keeps its last configuration meanwhile.
      await new Promise((r) => setTimeout(r, 1_000));
      expect(await pod('one.example')).toBe('a');
      run = await new StandaloneProcess(cfg.dir, {
        ...ports,
        firstAddress: '127.0.40.1',
        stateDir,
      }).start();
      expect((await run.applied(1)).get('default/gw')).toBe(address);
      expect(run.logs.some((l) => l.msg === 'gateway process adopted')).toBe(true);
      // The adopted gateway follows the new controller.
      cfg.write('four.yaml', [routeTo('four', 'four.example', 'svc-b')]);
      await eventually(
        async () => (await pod('four.example')) === 'b',
        'a change after the restart',
      );
    } finally {
      const r = await load.stop();
      expect(r.failures).toEqual([]);
      expect(r.ok).toBeGreaterThan(20);
    }
  });
});
