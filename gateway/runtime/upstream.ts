// Upstream connections: keep-alive pools per endpoint (undici for HTTP/1.1,
// node:http2 sessions for h2c), round-robin endpoint choice per cluster
// (healthy endpoints, draining ones only when none is healthy).
import { connect as h2connect, type ClientHttp2Session } from 'node:http2';
import { Pool } from 'undici';
import type { ClusterRuntime } from '../config/store.js';
import type { UpstreamEndpoint } from '../config/clusters.js';

export class Upstreams {
  private readonly pools = new Map<string, Pool>();
  private readonly sessions = new Map<string, ClientHttp2Session>();
  private readonly cursors = new Map<string, number>();

  pick(cluster: string, rt: ClusterRuntime): UpstreamEndpoint | undefined {
    const eps = rt.endpoints ?? [];
    let pool = eps.filter((e) => e.healthy);
    if (pool.length === 0) pool = eps;
    if (pool.length === 0) return undefined;
    const i = (this.cursors.get(cluster) ?? 0) % pool.length;
    this.cursors.set(cluster, i + 1);
    return pool[i];
  }

  pool(ep: UpstreamEndpoint, connectTimeoutMs: number): Pool {
    const key = `${ep.address}:${ep.port}`;
    let p = this.pools.get(key);
    if (!p) {
      const host = ep.address.includes(':') ? `[${ep.address}]` : ep.address;
      p = new Pool(`http://${host}:${ep.port}`, {
        connect: { timeout: connectTimeoutMs },
        keepAliveTimeout: 30_000,
        headersTimeout: 0,
        bodyTimeout: 0,
      });
      this.pools.set(key, p);
    }
    return p;
  }

  h2session(ep: UpstreamEndpoint): ClientHttp2Session {
    const key = `${ep.address}:${ep.port}`;
    let s = this.sessions.get(key);
    if (!s || s.closed || s.destroyed) {
      const host = ep.address.includes(':') ? `[${ep.address}]` : ep.address;
      s = h2connect(`http://${host}:${ep.port}`);
      s.on('error', () => this.sessions.delete(key));
      s.on('close', () => this.sessions.delete(key));
      s.unref();
      this.sessions.set(key, s);
    }
    return s;
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.close().catch(() => {})));
    for (const s of this.sessions.values()) s.close();
    this.pools.clear();
    this.sessions.clear();
  }
}
