import { describe, expect, it } from 'vitest';
import {
  covers,
  intersect,
  listenerSpecificity,
  routeHostsOnListener,
} from '../../controller/translator/hostnames.js';

describe('hostnames', () => {
  it('wildcards match one or more labels but not the bare suffix', () => {
    expect(covers('*.example.com', 'foo.example.com')).toBe(true);
    expect(covers('*.example.com', 'a.b.example.com')).toBe(true);
    expect(covers('*.example.com', 'example.com')).toBe(false);
    expect(covers('*.example.com', '*.a.example.com')).toBe(true);
    expect(covers('*.a.example.com', '*.example.com')).toBe(false);
    expect(covers('*', '*.example.com')).toBe(true);
    expect(covers('foo.example.com', '*')).toBe(false);
  });

  it('intersects to the more specific hostname', () => {
    expect(intersect('*.example.com', 'foo.example.com')).toBe('foo.example.com');
    expect(intersect('foo.example.com', '*.example.com')).toBe('foo.example.com');
    expect(intersect('*.example.com', '*.foo.example.com')).toBe('*.foo.example.com');
    expect(intersect('foo.example.com', 'bar.example.com')).toBeUndefined();
    expect(intersect('*.example.com', 'example.com')).toBeUndefined();
  });

  it('programs only the intersection of route and listener hostnames', () => {
    expect(routeHostsOnListener(undefined, [])).toEqual([{ host: '*', routeHost: '*' }]);
    expect(routeHostsOnListener('*.example.com', [])).toEqual([
      { host: '*.example.com', routeHost: '*' },
    ]);
    expect(
      routeHostsOnListener('*.example.com', ['a.example.com', 'b.other.org', '*.com']),
    ).toEqual([
      { host: '*.example.com', routeHost: '*.com' },
      { host: 'a.example.com', routeHost: 'a.example.com' },
    ]);
    expect(routeHostsOnListener('foo.com', ['bar.com'])).toEqual([]);
    // Two route hostnames meeting in one intersection rank by the more specific.
    expect(routeHostsOnListener('foo.example.com', ['*.example.com', 'foo.example.com'])).toEqual([
      { host: 'foo.example.com', routeHost: 'foo.example.com' },
    ]);
  });

  it('orders listeners exact > longer wildcard > shorter wildcard > none', () => {
    const order = ['foo.example.com', '*.a.example.com', '*.example.com', undefined].map(
      listenerSpecificity,
    );
    expect([...order].sort((a, b) => b - a)).toEqual(order);
  });
});

describe('covering hostnames', () => {
  it('lists every hostname that covers a domain, most specific first', async () => {
    const { coveringHosts } = await import('../../controller/translator/virtualhosts.js');
    expect(coveringHosts('a.b.example.com')).toEqual([
      'a.b.example.com',
      '*.b.example.com',
      '*.example.com',
      '*.com',
      '*',
    ]);
    expect(coveringHosts('*.b.example.com')).toEqual([
      '*.b.example.com',
      '*.example.com',
      '*.com',
      '*',
    ]);
    expect(coveringHosts('*')).toEqual(['*']);
    for (const d of ['a.b.example.com', '*.b.example.com']) {
      for (const h of coveringHosts(d)) expect(covers(h, d)).toBe(true);
    }
  });
});
