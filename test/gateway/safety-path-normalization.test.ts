// The path preparation of gateway/runtime/path.ts case by case (the
// end-to-end tests in safety-paths.test.ts prove it is what routes and what
// is forwarded): RFC 3986 normalization as Envoy's normalize_path does it,
// then the escaped-slash and merge-slashes settings of the chain.
import { describe, expect, it } from 'vitest';
import type { CompiledChain } from '../../gateway/config/listeners.js';
import { normalizePath, preparePath } from '../../gateway/runtime/path.js';

const chain = (over: Partial<CompiledChain> = {}): CompiledChain => ({
  name: 'c',
  serverNames: [],
  routeTable: 'rt',
  certificates: [],
  alpn: [],
  normalizePath: true,
  mergeSlashes: false,
  escapedSlashes: 'keep',
  stripPort: true,
  ...over,
});

describe('path normalization', () => {
  it.each([
    ['/', '/'],
    ['/a/b', '/a/b'],
    ['/a/./b', '/a/b'],
    ['/a/../b', '/b'],
    ['/a/b/..', '/a/'],
    ['/a/b/.', '/a/b/'],
    ['/..', '/'],
    ['/../../a', '/a'],
    ['/a//../b', '/a/b'],
    ['/a/%2e%2E/b', '/b'],
    ['/a/.%2e/b', '/b'],
    ['/a/%2e/b', '/a/b'],
    ['/a/..b/c', '/a/..b/c'],
    ['/a/.../c', '/a/.../c'],
    ['/a%2Fb/../c', '/c'],
    ['/a/..%2Fb', '/a/..%2Fb'],
    ['/a/%2f', '/a/%2f'],
    ['/a\\..\\b', '/b'],
    ['/%41%62%7e%2D', '/Ab~-'],
    ['/a%20b', '/a%20b'],
    ['/a b', '/a%20b'],
    ['/a{b}|^`"<>', '/a%7Bb%7D%7C%5E%60%22%3C%3E'],
    ['/caf\u00e9', '/caf%E9'],
    ['/\u20ac', '/%E2%82%AC'],
  ])('%s → %s', (input, output) => {
    expect(normalizePath(input)).toBe(output);
  });

  it.each(['', 'a/b', '*', 'http://x/a', '/a%', '/a%2', '/a%zz', '/a%00', '/a#b', '/a\u0000'])(
    'refuses %j',
    (input) => {
      expect(normalizePath(input)).toBeUndefined();
    },
  );

  it('applies the escaped-slash action before normalizing, and merges slashes after', () => {
    expect(preparePath('/a/..%2Fb', chain())).toBe('/a/..%2Fb');
    expect(preparePath('/a/..%2Fb', chain({ escapedSlashes: 'reject' }))).toBeUndefined();
    expect(preparePath('/a/..%2fb', chain({ escapedSlashes: 'unescape' }))).toBe('/b');
    expect(preparePath('/a/..%5cb', chain({ escapedSlashes: 'unescape' }))).toBe('/b');
    expect(preparePath('//a///b', chain({ mergeSlashes: true }))).toBe('/a/b');
    expect(preparePath('/a/../b', chain({ normalizePath: false }))).toBe('/a/../b');
    expect(preparePath('a', chain({ normalizePath: false }))).toBeUndefined();
  });
});
