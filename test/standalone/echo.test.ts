// `gatefleet echo`: the conformance echo backend's shape and behaviour.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/backends.js';
import { CLI, ROOT } from '../support/cli.js';
import { eventually } from '../support/gateway-harness.js';
import { httpGet } from '../support/http.js';

describe('gatefleet echo', () => {
  let port: number;
  let child: ReturnType<typeof spawn>;

  beforeAll(async () => {
    port = await freePort();
    child = spawn(process.execPath, [CLI, 'echo'], {
      cwd: ROOT,
      env: {
        ...process.env,
        HTTP_PORT: String(port),
        POD_NAME: 'infra-backend-v1-abc',
        NAMESPACE: 'gateway-conformance-infra',
      },
      stdio: 'ignore',
    });
    await eventually(
      async () => (await httpGet(port, '/health', 'x')).status === 200,
      'the echo backend',
    );
  });

  afterAll(() => child.kill());

  it('answers with the request it received, named as the conformance backend names it', async () => {
    const r = await httpGet(port, '/some/path?x=1', 'example.com', {
      headers: { 'x-custom': 'v', 'X-Multi': 'a' },
    });
    expect(r.status).toBe(200);
    const body = JSON.parse(r.body) as Record<string, unknown>;
    expect(body).toMatchObject({
      path: '/some/path?x=1',
      host: 'example.com',
      method: 'GET',
      proto: 'HTTP/1.1',
      namespace: 'gateway-conformance-infra',
      pod: 'infra-backend-v1-abc',
      httpPort: String(port),
    });
    expect((body.headers as Record<string, string[]>)['X-Custom']).toEqual(['v']);
    expect((body.headers as Record<string, string[]>).Host).toBeUndefined();
  });

  it('answers /status/NNN, delays with ?delay=, and sets headers asked for by X-Echo-Set-Header', async () => {
    expect((await httpGet(port, '/status/418', 'x')).status).toBe(418);
    const t = Date.now();
    await httpGet(port, '/?delay=300ms', 'x');
    expect(Date.now() - t).toBeGreaterThanOrEqual(290);
    const r = await httpGet(port, '/', 'x', {
      headers: { 'X-Echo-Set-Header': 'X-Foo: bar, X-Baz: qux' },
    });
    expect(r.headers['x-foo']).toBe('bar');
    expect(r.headers['x-baz']).toBe('qux');
  });
});
