import { describe, expect, it } from 'vitest';
import { selectorMatches } from '../../controller/translator/selectors.js';

describe('label selectors', () => {
  const labels = { team: 'a', tier: 'web' };
  it('ANDs matchLabels and every expression operator', () => {
    expect(selectorMatches({}, labels)).toBe(true);
    expect(selectorMatches({ matchLabels: { team: 'a' } }, labels)).toBe(true);
    expect(selectorMatches({ matchLabels: { team: 'b' } }, labels)).toBe(false);
    const e = (operator: string, values?: string[]) => ({
      matchExpressions: [{ key: 'tier', operator, ...(values ? { values } : {}) }],
    });
    expect(selectorMatches(e('In', ['web', 'db']), labels)).toBe(true);
    expect(selectorMatches(e('In', ['db']), labels)).toBe(false);
    expect(selectorMatches(e('NotIn', ['db']), labels)).toBe(true);
    expect(selectorMatches(e('NotIn', ['web']), labels)).toBe(false);
    expect(selectorMatches(e('Exists'), labels)).toBe(true);
    expect(selectorMatches(e('DoesNotExist'), labels)).toBe(false);
    expect(selectorMatches(e('Bogus'), labels)).toBe(false);
  });
});
