// Upstream connections: one keep-alive dispatcher per endpoint (an undici
// Pool for HTTP/1.1, an undici H2CClient, one multiplexed connection, for
// `kubernetes.io/h2c` clusters) and round-robin endpoint choice per cluster:
// healthy endpoints, draining ones only when none is healthy.
//
// Dispatchers outlive configurations: they are keyed by protocol, address,
// port and connect timeout, so a configuration change that keeps an endpoint
// keeps its warm connections, and a request still running on an older
// configuration keeps using the dispatcher it picked. A dispatcher nobody
// picked during a whole sweep period is closed (gracefully: requests still on
// it finish first).
//
// A cluster with upstream TLS (BackendTLSPolicy) gets TLS dispatchers,
// keyed by the TLS settings and the client certificate presented, if any
// (upstream-tls.ts verifies and names them).
import { H2CClient, Pool, type Dispatcher } from 'undici';
import type { CompiledSecret } from '../config/secrets.js';
import type { ClusterRuntime } from '../config/store.js';
import type { UpstreamEndpoint } from '../config/clusters.js';
import type { UpstreamTlsSpec } from '../config/upstream-tls.js';
import { tlsDispatcher, tlsKey } from './upstream-tls.js';

/** Idle upstream connections are kept this long unless the upstream's Keep-Alive hint is shorter. */
const KEEP_ALIVE_MS = 60_000;
/** Dispatchers unused for a whole period are closed. */
const SWEEP_MS = 60_000;
/**
 * Connections per HTTP/1.1 endpoint at most (Envoy's default circuit breaker,
 * max_connections 1024); requests beyond wait for one to be free. Without a
 * bound, a backend that slows down makes every waiting request open another
 * connection: measured at 5,000 requests/s, 5,000 connections to one nginx
 * worker, which then stopped accepting, and throughput collapsed.
 */
const MAX_CONNECTIONS = 1024;
/** Streams per h2c connection (Envoy's default max_concurrent_streams is far higher; 100 is what most servers advertise). */
const H2C_STREAMS = 100;

interface Entry {
  readonly key: string;
  readonly dispatcher: Dispatcher;
  /** Picked since the last sweep. */
  used: boolean;
  /** Closed by a sweep: the next pick replaces it. */
  closed: boolean;
}

/** Per ClusterRuntime (so per configuration): the endpoints requests may go to now. */
interface ClusterState {
  readonly entries: Entry[];
  readonly h2: boolean;
  readonly connectTimeoutMs: number;
  readonly tls: UpstreamTlsSpec | undefined;
  readonly client: CompiledSecret | undefined;
  readonly endpoints: UpstreamEndpoint[];
  next: number;
}

export class Upstreams {
  private readonly entries = new Map<string, Entry>();
  private readonly clusters = new WeakMap<ClusterRuntime, ClusterState>();
  private sweeper: NodeJS.Timeout | undefined;

  /**
   * The dispatcher of the next endpoint of the cluster (round robin), or
   * undefined when the cluster has no endpoint to send to.
   */
  pick(rt: ClusterRuntime): Dispatcher | undefined {
    let st = this.clusters.get(rt);
    if (st === undefined) {
      st = this.state(rt);
      this.clusters.set(rt, st);
    }
    const n = st.entries.length;
    if (n === 0) return undefined;
    let i = 0;
    if (n > 1) {
      i = st.next;
      st.next = i + 1 === n ? 0 : i + 1;
    }
    let e = st.entries[i]!;
    if (e.closed)
      e = st.entries[i] = this.entry(
        st.endpoints[i]!,
        st.h2,
        st.connectTimeoutMs,
        st.tls,
        st.client,
      );
    e.used = true;
    return e.dispatcher;
  }

  private state(rt: ClusterRuntime): ClusterState {
    const all = rt.endpoints ?? [];
    let endpoints = all.filter((e) => e.healthy);
    if (endpoints.length === 0) endpoints = all;
    const h2 = rt.spec.http2;
    const connectTimeoutMs = rt.spec.connectTimeoutMs;
    const tls = rt.spec.tls;
    const client = tls ? rt.clientCertificate : undefined;
    return {
      entries: endpoints.map((ep) => this.entry(ep, h2, connectTimeoutMs, tls, client)),
      h2,
      connectTimeoutMs,
      tls,
      client,
      endpoints,
      next: 0,
    };
  }

  private entry(
    ep: UpstreamEndpoint,
    h2: boolean,
    connectTimeoutMs: number,
    tls: UpstreamTlsSpec | undefined,
    client: CompiledSecret | undefined,
  ): Entry {
    const host = ep.address.includes(':') ? `[${ep.address}]` : ep.address;
    const origin = `${tls ? 'https' : 'http'}://${host}:${ep.port}`;
    const key = `${h2 ? 'h2c' : 'h1'} ${origin} ${connectTimeoutMs}${tls ? ` ${tlsKey(tls, client)}` : ''}`;
    let e = this.entries.get(key);
    if (e === undefined || e.closed) {
      const common = {
        connect: { timeout: connectTimeoutMs },
        // Timeouts are the route's business (forward.ts), not the pool's.
        headersTimeout: 0,
        bodyTimeout: 0,
        keepAliveTimeout: KEEP_ALIVE_MS,
        keepAliveMaxTimeout: KEEP_ALIVE_MS,
      };
      const dispatcher = tls
        ? tlsDispatcher(origin, tls, client, h2, connectTimeoutMs, {
            ...common,
            connections: MAX_CONNECTIONS,
          })
        : h2
          ? new H2CClient(origin, {
              ...common,
              maxConcurrentStreams: H2C_STREAMS,
              pipelining: H2C_STREAMS,
            })
          : new Pool(origin, { ...common, pipelining: 1, connections: MAX_CONNECTIONS });
      e = { key, dispatcher, used: false, closed: false };
      this.entries.set(key, e);
      this.sweeper ??= setInterval(() => this.sweep(), SWEEP_MS).unref();
    }
    return e;
  }

  private sweep(): void {
    for (const [key, e] of this.entries) {
      if (e.used) {
        e.used = false;
        continue;
      }
      e.closed = true;
      this.entries.delete(key);
      e.dispatcher.close().catch(noop);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    const all = [...this.entries.values()];
    this.entries.clear();
    for (const e of all) e.closed = true;
    await Promise.all(all.map((e) => e.dispatcher.close().catch(noop)));
  }
}

function noop(): void {}
