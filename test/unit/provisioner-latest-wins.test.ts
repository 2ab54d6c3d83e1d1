// The provisioner's reconcile serialisation: one run at a time, the newest
// input wins, superseded inputs never run, waiting callers share a result.
import { describe, expect, it } from 'vitest';
import { LatestWins } from '../../controller/provisioner/latest-wins.js';

describe('LatestWins', () => {
  it('runs one at a time and coalesces the calls that wait into one run with the newest input', async () => {
    const started: number[] = [];
    let active = 0;
    let maxActive = 0;
    const releases: (() => void)[] = [];
    const runner = new LatestWins<number, string>(async (n) => {
      started.push(n);
      maxActive = Math.max(maxActive, ++active);
      await new Promise<void>((r) => releases.push(r));
      active--;
      if (n < 0) throw new Error(`refused ${n}`);
      return `ran ${n}`;
    });
    const first = runner.run(1);
    const second = runner.run(2);
    const third = runner.run(3);
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([1]);
    releases.shift()!();
    expect(await first).toBe('ran 1');
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([1, 3]);
    releases.shift()!();
    expect(await Promise.all([second, third])).toEqual(['ran 3', 'ran 3']);
    expect(maxActive).toBe(1);

    // An error reaches every caller of that run; the runner keeps working.
    const failing = runner.run(-1);
    await new Promise((r) => setImmediate(r));
    releases.shift()!();
    await expect(failing).rejects.toThrow('refused -1');
    const after = runner.run(4);
    await new Promise((r) => setImmediate(r));
    releases.shift()!();
    expect(await after).toBe('ran 4');
  });
});
