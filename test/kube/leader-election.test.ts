// Leader election on a real API server: one leader at a time, takeover
// within the failover bound after a crash, at once after a graceful release.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaderElector } from '../../controller/runtime/leader-election.js';
import { startCluster, waitFor, type TestCluster } from '../support/kube-cluster.js';

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await startCluster({ crds: false });
}, 180_000);
afterAll(async () => cluster?.down());

function elector(name: string, identity: string): LeaderElector {
  return new LeaderElector({ rest: cluster.rest, namespace: 'default', name, identity });
}

/** Samples every 50 ms that at most one elector believes it leads. */
function watchExclusive(electors: LeaderElector[]): { stop(): number } {
  let violations = 0;
  const t = setInterval(() => {
    if (electors.filter((e) => e.isLeader()).length > 1) violations++;
  }, 50);
  return {
    stop: () => {
      clearInterval(t);
      return violations;
    },
  };
}

describe('leader election (coordination.k8s.io Lease)', () => {
  it('elects exactly one of three replicas and writes it into the Lease', async () => {
    const es = ['a', 'b', 'c'].map((id) => elector('one-of-three', id));
    const ex = watchExclusive(es);
    for (const e of es) e.start();
    const leader = await waitFor('a leader', () => es.find((e) => e.isLeader()), 10_000);
    // It stays the only one over several renewals.
    await new Promise((r) => setTimeout(r, 5_000));
    expect(es.filter((e) => e.isLeader())).toEqual([leader]);
    const lease = await cluster.rest.get<{ spec: { holderIdentity: string } }>(
      '/apis/coordination.k8s.io/v1/namespaces/default/leases/one-of-three',
    );
    expect(lease.spec.holderIdentity).toBe(['a', 'b', 'c'][es.indexOf(leader)]);
    await Promise.all(es.map((e) => e.stop()));
    expect(ex.stop()).toBe(0);
  }, 60_000);

  it('a crashed leader is replaced within 15 s, never with two leaders at once', async () => {
    const a = elector('crash', 'a');
    a.start();
    await waitFor('a leads', () => a.isLeader(), 10_000);
    const b = elector('crash', 'b');
    b.start();
    const ex = watchExclusive([b]);
    await new Promise((r) => setTimeout(r, 3_000));
    expect(b.isLeader()).toBe(false);
    // Crash: a stops renewing and does not release.
    const t0 = Date.now();
    await a.stop(false);
    await waitFor('b leads', () => b.isLeader(), 20_000, 50);
    const failoverMs = Date.now() - t0;
    expect(failoverMs).toBeLessThanOrEqual(15_000);
    // b must not have taken over while a's lease was still live.
    expect(failoverMs).toBeGreaterThanOrEqual(7_000);
    await b.stop();
    expect(ex.stop()).toBe(0);
  }, 60_000);

  it('a leader that stops gracefully hands over within a retry period', async () => {
    const a = elector('graceful', 'a');
    const b = elector('graceful', 'b');
    a.start();
    await waitFor('a leads', () => a.isLeader(), 10_000);
    b.start();
    await new Promise((r) => setTimeout(r, 1_000));
    const t0 = Date.now();
    await a.stop(true);
    await waitFor('b leads', () => b.isLeader(), 10_000, 50);
    expect(Date.now() - t0).toBeLessThan(4_500);
    await b.stop();
  }, 60_000);

  it('a leader that cannot reach the API server steps down before its lease expires', async () => {
    const unreachable = elector('deadline', 'a');
    unreachable.start();
    await waitFor('a leads', () => unreachable.isLeader(), 10_000);
    const changes: boolean[] = [];
    unreachable.onChange((l) => changes.push(l));
    // Break its connection: every request now fails.
    const rest = (unreachable as unknown as { opts: { rest: { request: unknown } } }).opts.rest;
    const original = rest.request;
    const t0 = Date.now();
    rest.request = () => Promise.reject(new Error('connection refused'));
    try {
      await waitFor('a steps down', () => !unreachable.isLeader(), 15_000, 50);
      const steppedDownAfter = Date.now() - t0;
      // Within the renew deadline (8 s) plus one retry period, i.e. before the 10 s lease ends.
      expect(steppedDownAfter).toBeLessThan(10_000);
      expect(changes).toEqual([false]);
    } finally {
      rest.request = original;
      await unreachable.stop(false);
    }
  }, 60_000);
});
