// The xDS client's reconnection back-off: full jitter over an exponential
// bound that starts at 250 ms and never exceeds 5 s.
import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_BACKOFF } from '../../gateway/xds/ads-client.js';

describe('xDS reconnection back-off', () => {
  it('doubles its bound per attempt from 250 ms up to 5 s', () => {
    const bound = (attempt: number) => backoffDelay(DEFAULT_BACKOFF, attempt, () => 1);
    expect([0, 1, 2, 3, 4, 5, 6, 50, 5000].map(bound)).toEqual([
      250, 500, 1000, 2000, 4000, 5000, 5000, 5000, 5000,
    ]);
  });

  it('is jittered uniformly below the bound', () => {
    expect(backoffDelay(DEFAULT_BACKOFF, 3, () => 0)).toBe(0);
    expect(backoffDelay(DEFAULT_BACKOFF, 3, () => 0.5)).toBe(1000);
    const delays = Array.from({ length: 200 }, () => backoffDelay(DEFAULT_BACKOFF, 10));
    expect(Math.max(...delays)).toBeLessThanOrEqual(5000);
    expect(new Set(delays.map(Math.round)).size).toBeGreaterThan(100);
  });
});
