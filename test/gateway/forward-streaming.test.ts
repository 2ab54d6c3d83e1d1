// Bodies stream through the gateway both ways: 200 MB up and 200 MB down
// pass while the gateway's memory stays far below that, and bytes reach the
// other side before the sender has finished.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpBackend, type HttpBackend } from '../support/forward-backends.js';
import { ForwardFixture, HOST } from '../support/forward-fixture.js';
import { route, service } from '../support/k8s.js';

const MB = 1024 * 1024;
const TOTAL = 200 * MB;
const CHUNK = Buffer.alloc(MB, 'z');

describe('forwarding: streaming bodies', () => {
  const fx = new ForwardFixture();
  let backend: HttpBackend;
  /** Upload side, as the backend saw it. */
  const up = { firstByteAt: 0, bytes: 0 };
  /** Download side: whether the backend has written its last byte. */
  const down = { finished: false };
  let baseline = 0;

  beforeAll(async () => {
    backend = await httpBackend((req, res) => {
      if (req.method === 'POST') {
        req.on('data', (c: Buffer) => {
          if (up.bytes === 0) up.firstByteAt = Date.now();
          up.bytes += c.length;
        });
        req.on('end', () => res.end(String(up.bytes)));
        return;
      }
      req.resume();
      down.finished = false;
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      let sent = 0;
      const pump = () => {
        while (sent < TOTAL) {
          sent += CHUNK.length;
          if (!res.write(CHUNK)) return void res.once('drain', pump);
        }
        res.end(() => (down.finished = true));
      };
      pump();
    });
    await fx.start([
      route('r', {
        parentRefs: [{ name: 'gw' }],
        hostnames: [HOST],
        rules: [{ backendRefs: [{ name: 'big', port: 80 }], timeouts: { request: '60s' } }],
      }),
      ...service('big', [backend.port]),
    ]);
    await fx.get('/warm-up');
    baseline = fx.memory().rss;
  });

  afterAll(async () => {
    await fx.stop();
    await backend.close();
  });

  it('streams a 200 MB request body, the backend reading it before the client has sent it all', async () => {
    let clientDoneAt = 0;
    const answer = await new Promise<string>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: fx.port,
          method: 'POST',
          path: '/upload',
          headers: { host: HOST, 'transfer-encoding': 'chunked' },
          agent: false,
        },
        (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve(body));
        },
      );
      req.on('error', reject);
      let sent = 0;
      const pump = () => {
        while (sent < TOTAL) {
          sent += CHUNK.length;
          if (!req.write(CHUNK)) return void req.once('drain', pump);
        }
        req.end(() => (clientDoneAt = Date.now()));
      };
      pump();
    });
    expect(Number(answer)).toBe(TOTAL);
    expect(up.firstByteAt).toBeGreaterThan(0);
    expect(up.firstByteAt).toBeLessThan(clientDoneAt);
    expectSmallMemory();
  }, 60_000);

  it('streams a 200 MB response body, the client reading it before the backend has sent it all', async () => {
    let finishedAtFirstByte: boolean | undefined;
    const received = await new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: fx.port,
          path: '/download',
          headers: { host: HOST },
          agent: false,
        },
        (res) => {
          let n = 0;
          res.on('data', (d: Buffer) => {
            finishedAtFirstByte ??= down.finished;
            n += d.length;
          });
          res.on('end', () => resolve(n));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(received).toBe(TOTAL);
    expect(finishedAtFirstByte).toBe(false);
    expectSmallMemory();
  }, 60_000);

  /**
   * The peak resident set never grew by more than a fraction of a body (the
   * idle gateway's own RSS, some 150 MB of code and configuration, is not
   * the point here).
   */
  function expectSmallMemory(): void {
    const { peak } = fx.memory();
    expect(peak - baseline, `peak ${peak >> 20} MB, baseline ${baseline >> 20} MB`).toBeLessThan(
      48 * MB,
    );
  }
});
