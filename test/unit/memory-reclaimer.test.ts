// The gateway's memory reclaimer: one full collection after a burst of
// large configuration updates, none for small ones, and the heap it leaves
// holds only what is live.
import { describe, expect, it } from 'vitest';
import { MemoryReclaimer } from '../../gateway/memory.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('MemoryReclaimer', () => {
  it('collects once after a burst that carried at least the threshold, not per update', async () => {
    const m = new MemoryReclaimer({ thresholdBytes: 1_000, debounceMs: 30 });
    m.noteApplied(600);
    await sleep(60);
    expect(m.collections).toBe(0);
    m.noteApplied(600); // 1,200 ≥ 1,000 since the last collection
    m.noteApplied(5_000);
    await sleep(10);
    m.noteApplied(5_000); // still the same burst: the debounce restarts
    expect(m.collections).toBe(0);
    await sleep(80);
    expect(m.collections).toBe(1);
    m.noteApplied(10);
    await sleep(60);
    expect(m.collections).toBe(1);
    m.stop();
  });

  it('returns garbage left by an update to the heap', async () => {
    const m = new MemoryReclaimer({ thresholdBytes: 1, debounceMs: 1 });
    const before = process.memoryUsage().heapUsed;
    let garbage: unknown[] | undefined = Array.from({ length: 300_000 }, (_, i) => ({
      i,
      s: `x${i}`,
    }));
    expect(garbage.length).toBe(300_000);
    garbage = undefined;
    const withGarbage = process.memoryUsage().heapUsed;
    expect(withGarbage - before).toBeGreaterThan(10 * 1024 * 1024);
    m.noteApplied(1);
    await sleep(30);
    expect(m.collections).toBe(1);
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(5 * 1024 * 1024);
  });
});
