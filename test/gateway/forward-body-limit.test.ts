// A streamed (chunked) request body is counted as it passes: past the
// request body limit (maxRequestBodyBytes, 1 GiB by default) the upstream
// request is abandoned and the client gets 413, and the gateway keeps
// serving. (A Content-Length over the limit is refused before forwarding;
// that is the request checks' test.)
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpBackend, type HttpBackend } from '../support/forward-backends.js';
import { ForwardFixture, HOST, until } from '../support/forward-fixture.js';
import { route, service } from '../support/k8s.js';

const MB = 1024 * 1024;
const LIMIT = 1024 * MB;
const CHUNK = Buffer.alloc(MB, 'c');

describe('forwarding: streamed request body limit', () => {
  const fx = new ForwardFixture();
  let backend: HttpBackend;
  const seen = { bytes: 0, complete: true, closed: false };

  beforeAll(async () => {
    backend = await httpBackend((req, res) => {
      if (req.method !== 'POST') {
        req.resume();
        return void res.end('ok');
      }
      seen.complete = false;
      req.on('data', (c: Buffer) => (seen.bytes += c.length));
      req.on('close', () => {
        seen.closed = true;
        seen.complete = req.complete;
      });
      req.on('end', () => res.end(String(seen.bytes)));
    });
    await fx.start([
      route('r', {
        parentRefs: [{ name: 'gw' }],
        hostnames: [HOST],
        rules: [{ backendRefs: [{ name: 'sink', port: 80 }] }],
      }),
      ...service('sink', [backend.port]),
    ]);
  });

  afterAll(async () => {
    await fx.stop();
    await backend.close();
  });

  it('answers 413 once a chunked body goes over the limit, and abandons the upstream request', async () => {
    let sent = 0;
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: fx.port,
          method: 'POST',
          path: '/big',
          headers: { host: HOST, 'transfer-encoding': 'chunked' },
          agent: false,
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      // Once the gateway has answered it closes the connection: writes fail then.
      req.on('error', (e) => (sent > LIMIT ? undefined : reject(e)));
      const pump = () => {
        while (sent <= LIMIT + 16 * MB) {
          sent += CHUNK.length;
          if (!req.write(CHUNK)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    expect(status).toBe(413);
    expect(sent).toBeGreaterThan(LIMIT);
    // The upstream request was cut off, never completed.
    await until(() => seen.closed, 'the upstream request to be abandoned');
    expect(seen.complete).toBe(false);
    expect(seen.bytes).toBeLessThanOrEqual(LIMIT);
    // And the gateway serves on.
    expect((await fx.get('/after')).status).toBe(200);
  }, 60_000);
});
