import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../controller/translator/durations.js';

describe('Gateway API durations', () => {
  it.each([
    ['1h', 3_600_000],
    ['1m30s', 90_000],
    ['500ms', 500],
    ['1h2m3s4ms', 3_723_004],
    ['0s', 0],
  ])('%s is %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', '1', '1d', '1.5s', '-1s', '1h2m3s4ms5ms', '123456s', ' 1s'])('rejects %j', (text) =>
    expect(parseDuration(text)).toBeUndefined(),
  );
});
