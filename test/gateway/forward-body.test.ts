// RequestBody (gateway/runtime/body.ts) on its own, for what the end-to-end
// tests cannot pin down (kernel socket buffers hide it there): a mirror
// holding the whole body keeps it when the exchange ends, a mirror falling
// behind is dropped, the replay buffer's bound, and the body limit.
import { PassThrough, type Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  MIRROR_BACKLOG_LIMIT,
  RETRY_BODY_LIMIT,
  RequestBody,
  type BodyOwner,
} from '../../gateway/runtime/body.js';
import type { DownstreamRequest } from '../../gateway/runtime/forward.js';

function owner(): BodyOwner & { completed: number; overLimit: number } {
  return {
    completed: 0,
    overLimit: 0,
    onBodyComplete() {
      this.completed++;
    },
    onBodyLimit() {
      this.overLimit++;
    },
  };
}

async function drain(r: Readable): Promise<number> {
  let n = 0;
  for await (const c of r) n += (c as Buffer).length;
  return n;
}

const tick = () => new Promise((r) => setImmediate(r));

describe('RequestBody', () => {
  it('lets a mirror that has the whole body finish after the exchange is over', async () => {
    const req = new PassThrough();
    const o = owner();
    const body = new RequestBody(req as unknown as DownstreamRequest, o, Infinity, false);
    const mirror = body.tee();
    const main = body.stream();
    const mainBytes = drain(main);
    req.end(Buffer.alloc(300_000, 'a'));
    expect(await mainBytes).toBe(300_000);
    expect(o.completed).toBe(1);
    body.stop(); // the response is complete: the exchange ends
    expect(await drain(mirror)).toBe(300_000);
  });

  it('drops a mirror that falls too far behind, without holding the client back', async () => {
    const req = new PassThrough();
    const body = new RequestBody(req as unknown as DownstreamRequest, owner(), Infinity, false);
    const mirror = body.tee(); // never read
    const mainBytes = drain(body.stream());
    const total = MIRROR_BACKLOG_LIMIT * 3;
    for (let sent = 0; sent < total; sent += 64 * 1024) {
      req.write(Buffer.alloc(64 * 1024, 'b'));
      await tick();
    }
    req.end();
    expect(await mainBytes).toBe(total);
    expect(mirror.destroyed).toBe(true);
  });

  it('keeps a small body for retries and gives up on a larger one', async () => {
    const small = new PassThrough();
    const a = new RequestBody(small as unknown as DownstreamRequest, owner(), Infinity, true);
    const aBytes = drain(a.stream());
    small.end(Buffer.alloc(RETRY_BODY_LIMIT, 'c'));
    await aBytes;
    expect(a.replayable()).toBe(true);
    expect(a.replay().length).toBe(RETRY_BODY_LIMIT);

    const big = new PassThrough();
    const b = new RequestBody(big as unknown as DownstreamRequest, owner(), Infinity, true);
    const bBytes = drain(b.stream());
    big.end(Buffer.alloc(RETRY_BODY_LIMIT + 1, 'd'));
    expect(await bBytes).toBe(RETRY_BODY_LIMIT + 1);
    expect(b.replayable()).toBe(false);
  });

  it('stops at the body limit and tells its owner', async () => {
    const req = new PassThrough();
    const o = owner();
    const body = new RequestBody(req as unknown as DownstreamRequest, o, 1000, false);
    const main = body.stream();
    main.on('error', () => {});
    main.resume();
    req.write(Buffer.alloc(600));
    req.write(Buffer.alloc(600));
    await tick();
    expect(o.overLimit).toBe(1);
    expect(main.destroyed).toBe(true);
    expect(body.bytes).toBe(1200);
  });
});
