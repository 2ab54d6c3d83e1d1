// Leader election on a coordination.k8s.io/v1 Lease, the way client-go does
// it: the leader renews the Lease every retry period; a candidate takes it
// over only after the record has stayed unchanged for a whole lease duration
// *as observed on the candidate's own clock* (so clock skew between replicas
// does not matter); every write carries the resourceVersion it read, so two
// candidates can never both win. A leader that cannot renew within the renew
// deadline steps down before its lease can expire; a leader that stops
// gracefully releases the Lease so another replica takes over at once.
//
// Failover bound after a crash: leaseDuration + retryPeriod (defaults: 10 s +
// 2 s), inside the 15 s the project promises.
import { KubeApiError, isStatus, type KubeRest } from '../providers/kube/rest.js';

export interface LeaderElectionOptions {
  rest: KubeRest;
  namespace: string;
  name: string;
  /** This replica's identity (its pod name). */
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  log?: (level: 'info' | 'warn' | 'debug', msg: string, fields?: Record<string, unknown>) => void;
  /** Clock for tests. */
  now?: () => number;
}

interface Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: {
    holderIdentity?: string | null;
    leaseDurationSeconds?: number;
    acquireTime?: string | null;
    renewTime?: string | null;
    leaseTransitions?: number;
  };
}

/** The Lease API's MicroTime: RFC 3339 with microseconds. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaderElector {
  private leading = false;
  private timer?: NodeJS.Timeout;
  private stopped = true;
  private lastRenew = 0;
  /** The record last seen and when (on our clock) it was first seen. */
  private observed?: { key: string; at: number };
  private readonly listeners: ((leading: boolean) => void)[] = [];
  private readonly leaseMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryMs: number;
  private readonly now: () => number;
  private cycle?: Promise<void>;

  constructor(private readonly opts: LeaderElectionOptions) {
    this.leaseMs = opts.leaseDurationMs ?? 10_000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 8_000;
    this.retryMs = opts.retryPeriodMs ?? 2_000;
    this.now = opts.now ?? Date.now;
    if (!(this.retryMs < this.renewDeadlineMs && this.renewDeadlineMs < this.leaseMs)) {
      throw new Error('leader election needs retryPeriod < renewDeadline < leaseDuration');
    }
  }

  private get path(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${this.opts.namespace}/leases`;
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** Called with true when this replica starts leading and false when it stops. */
  onChange(listener: (leading: boolean) => void): void {
    this.listeners.push(listener);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.tick();
  }

  /**
   * Stops campaigning. With `release` (graceful shutdown) a leader hands the
   * Lease back so another replica takes over without waiting for it to expire.
   */
  async stop(release = true): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.cycle;
    if (this.leading && release) {
      try {
        const lease = await this.opts.rest.get<Lease>(`${this.path}/${this.opts.name}`);
        if (lease.spec.holderIdentity === this.opts.identity) {
          await this.opts.rest.request('PUT', `${this.path}/${this.opts.name}`, {
            body: {
              ...lease,
              spec: {
                ...lease.spec,
                holderIdentity: null,
                leaseDurationSeconds: 1,
                renewTime: microTime(this.now()),
              },
            },
          });
        }
      } catch (e) {
        this.opts.log?.('warn', 'could not release the leader lease', { error: String(e) });
      }
    }
    this.setLeading(false);
  }

  private tick(): void {
    if (this.stopped) return;
    this.cycle = this.tryAcquireOrRenew().then(
      () => undefined,
      (e: unknown) => {
        this.opts.log?.('warn', 'leader election attempt failed', { error: String(e) });
      },
    );
    void this.cycle.finally(() => {
      if (this.leading && this.now() - this.lastRenew > this.renewDeadlineMs) {
        // Could not renew in time: step down before the lease can expire
        // under us and another replica legitimately takes over.
        this.opts.log?.('warn', 'lost the leader lease: renew deadline passed');
        this.setLeading(false);
      }
      if (!this.stopped) this.timer = setTimeout(() => this.tick(), this.retryMs);
    });
  }

  private async tryAcquireOrRenew(): Promise<void> {
    const now = this.now();
    const spec = {
      holderIdentity: this.opts.identity,
      leaseDurationSeconds: Math.ceil(this.leaseMs / 1000),
      renewTime: microTime(now),
    };
    let lease: Lease;
    try {
      lease = await this.opts.rest.request<Lease>('GET', `${this.path}/${this.opts.name}`, {
        timeoutMs: this.retryMs,
      });
    } catch (e) {
      if (!isStatus(e, 404)) throw e;
      const created: Lease = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: this.opts.name, namespace: this.opts.namespace },
        spec: { ...spec, acquireTime: microTime(now), leaseTransitions: 0 },
      };
      await this.write('POST', this.path, created, now);
      return;
    }
    const holder = lease.spec.holderIdentity ?? '';
    const key = `${holder}|${lease.spec.renewTime ?? ''}|${lease.metadata.resourceVersion ?? ''}`;
    if (this.observed?.key !== key) this.observed = { key, at: now };
    if (holder === this.opts.identity) {
      await this.write(
        'PUT',
        `${this.path}/${this.opts.name}`,
        { ...lease, spec: { ...lease.spec, ...spec } },
        now,
      );
      return;
    }
    const durationMs = (lease.spec.leaseDurationSeconds ?? 0) * 1000;
    if (holder !== '' && now - this.observed.at < durationMs) {
      this.setLeading(false); // someone else holds a live lease
      return;
    }
    await this.write(
      'PUT',
      `${this.path}/${this.opts.name}`,
      {
        ...lease,
        spec: {
          ...spec,
          acquireTime: microTime(now),
          leaseTransitions: (lease.spec.leaseTransitions ?? 0) + (holder === '' ? 0 : 1),
        },
      },
      now,
    );
  }

  private async write(method: string, path: string, lease: Lease, at: number): Promise<void> {
    try {
      // A hung request must not outlast the renew deadline.
      await this.opts.rest.request(method, path, { body: lease, timeoutMs: this.retryMs });
    } catch (e) {
      // 409: another replica wrote first; it leads (or renewed) this round.
      if (e instanceof KubeApiError && e.status === 409) return;
      throw e;
    }
    this.lastRenew = at;
    this.setLeading(true);
  }

  private setLeading(leading: boolean): void {
    if (leading === this.leading) return;
    this.leading = leading;
    this.opts.log?.('info', leading ? 'became the leader' : 'stopped leading', {
      lease: `${this.opts.namespace}/${this.opts.name}`,
      identity: this.opts.identity,
    });
    for (const l of this.listeners) l(leading);
  }
}
