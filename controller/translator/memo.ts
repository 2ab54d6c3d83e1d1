// What one translation may reuse from the previous one. A long-lived caller
// (the controller) passes the same TranslationMemo to every translate(), so
// an edit to one route re-analyses that route and rebuilds only the IR it
// touches; everything else is the previous translation's objects, reused.
//
// Contract: the output is exactly what a translation without a memo gives
// (test/unit/translator-memo.test.ts checks this on random edit sequences).
// Reuse is decided from the input objects' identity — providers replace an
// object when it changes and never mutate one in place — plus the exact
// lookups a cached result made (Services read, ReferenceGrant checks), which
// are replayed against the new input. Unchanged IR keeps its identity, which
// is what lets publishIR skip node groups and resources by identity too.
import type { BackendTlsIndex } from './backend-tls.js';
import type { EndpointSlice, HTTPRoute, Service } from '../apis/types.js';
import type { Cluster, FilterChain, Listener, NodeGroup, Route, VirtualHost } from '../ir/types.js';
import { resolveCluster } from './endpoints.js';
import type { RefFrom, RefTo } from './refgrants.js';
import type { BackendContext, ClusterSpec, GrantCheck } from './routes/backends.js';
import { analyzeRoute, type RouteAnalysis } from './routes/rules.js';
import { listenerIndependentRoute, type AttachedEntry } from './virtualhosts.js';

interface CachedAnalysis {
  spec: object;
  metadata: object;
  analysis: RouteAnalysis;
  services: [string, Service | undefined][];
  grants: { from: RefFrom; to: RefTo; allowed: boolean }[];
  /** The route's attached entries per served host (usually one or two). */
  entries: { host: string; routeHost: string; list: readonly AttachedEntry[] }[];
}

interface CachedCluster {
  spec: ClusterSpec;
  serviceKey: string;
  service: Service | undefined;
  slices: readonly EndpointSlice[];
  /** The BackendTLSPolicy outcome for the port, as JSON (compared by value). */
  tls: string;
  cluster: Cluster;
}

/**
 * Values kept while translations use them: what one translation neither read
 * nor wrote is forgotten when it completes. One map lookup per read.
 */
class Generations<K, V> {
  private readonly entries = new Map<K, { value: V; used: number }>();
  private generation = 0;

  /** The value, marked as used by this translation. */
  get(key: K): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    e.used = this.generation;
    return e.value;
  }

  set(key: K, value: V): void {
    const e = this.entries.get(key);
    if (e) {
      e.value = value;
      e.used = this.generation;
    } else this.entries.set(key, { value, used: this.generation });
  }

  rotate(): void {
    for (const [k, e] of this.entries) if (e.used !== this.generation) this.entries.delete(k);
    this.generation++;
  }
}

const NO_SLICES: readonly EndpointSlice[] = [];

function sameItems<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether two objects are equal as JSON, leaving out the named fields. */
function sameExcept<T extends object>(a: T, b: T, ...left: (keyof T)[]): boolean {
  const json = (root: T) =>
    JSON.stringify(root, function (this: unknown, k: string, v: unknown) {
      return this === root && left.includes(k as keyof T) ? undefined : v;
    });
  return json(a) === json(b);
}

/**
 * Routes are shared objects (one per rule match and listener kind), except
 * the 421 answers for misdirected hosts, which are built per chain.
 */
function sameRoute(a: Route, b: Route): boolean {
  if (a === b) return true;
  return (
    a.source.name === '' &&
    b.source.name === '' &&
    a.name === b.name &&
    a.action.type === 'DirectResponse' &&
    b.action.type === 'DirectResponse' &&
    a.action.status === b.action.status &&
    a.action.reason === b.action.reason
  );
}

function sameVirtualHost(a: VirtualHost, b: VirtualHost): boolean {
  return (
    a === b ||
    (a.name === b.name &&
      a.domain === b.domain &&
      a.routes.length === b.routes.length &&
      a.routes.every((r, i) => sameRoute(r, b.routes[i]!)))
  );
}

/**
 * Whether a route is the one an analysis was made from. The analysis reads
 * the spec and these metadata fields. A spec is the same when it is the same
 * object (files, and objects the controller re-wraps), or when the API server
 * says so: the same uid at the same generation, which only a spec change moves
 * (a status write re-reads the route as new objects).
 */
function sameSource(cached: CachedAnalysis, route: HTTPRoute): boolean {
  const a = cached.metadata as HTTPRoute['metadata'];
  const b = route.metadata;
  if (
    a !== b &&
    (a.name !== b.name ||
      a.namespace !== b.namespace ||
      a.generation !== b.generation ||
      a.creationTimestamp !== b.creationTimestamp ||
      !sameLabels(a.labels, b.labels))
  )
    return false;
  if (cached.spec === route.spec) return true;
  // A new spec under the very same metadata object was made in this process, not re-read.
  if (a === b) return false;
  return typeof a.uid === 'string' && a.uid !== '' && a.uid === b.uid && a.generation !== undefined;
}

function sameLabels(a?: Record<string, string>, b?: Record<string, string>): boolean {
  if (a === b) return true;
  const ka = Object.keys(a ?? {});
  if (ka.length !== Object.keys(b ?? {}).length) return false;
  return ka.every((k) => a![k] === b?.[k]);
}

export class TranslationMemo {
  /**
   * `oneShot`: the memo of a single translation (translate() without a
   * memo). Only what is shared within one translation is kept (analyses for
   * their entries, clusters); nothing is recorded for a next one.
   */
  constructor(private readonly oneShot = false) {}

  /** By route key; reused while the route keeps its spec and metadata objects. */
  private readonly analyses = new Generations<string, CachedAnalysis>();
  private readonly clusterNames = new Generations<VirtualHost, readonly string[]>();
  private readonly clusters = new Generations<string, CachedCluster>();
  private readonly listenerHosts = new Generations<
    string,
    {
      entries: readonly AttachedEntry[];
      context: string;
      virtualHosts: VirtualHost[];
    }
  >();
  private readonly filterChains = new Generations<string, FilterChain>();
  private readonly listeners = new Generations<string, Listener>();
  private readonly nodeGroups = new Generations<string, NodeGroup>();

  /** The route's analysis, reused when the route and everything it looked up are unchanged. */
  analysis(routeKey: string, route: HTTPRoute, ctx: BackendContext): RouteAnalysis {
    const cached = this.analyses.get(routeKey);
    if (
      cached &&
      sameSource(cached, route) &&
      cached.services.every(([k, s]) => ctx.services.get(k) === s) &&
      cached.grants.every((g) => ctx.grants.allowed(g.from, g.to) === g.allowed)
    )
      return cached.analysis;
    if (this.oneShot) {
      const analysis = analyzeRoute(route, ctx);
      this.analyses.set(routeKey, {
        spec: route.spec,
        metadata: route.metadata,
        analysis,
        services: [],
        grants: [],
        entries: [],
      });
      return analysis;
    }
    const services: CachedAnalysis['services'] = [];
    const grants: CachedAnalysis['grants'] = [];
    const recording: BackendContext = {
      services: {
        get: (k) => {
          const s = ctx.services.get(k);
          services.push([k, s]);
          return s;
        },
      },
      grants: {
        allowed: (from, to) => {
          const allowed = ctx.grants.allowed(from, to);
          grants.push({ from, to, allowed });
          return allowed;
        },
      } satisfies GrantCheck,
    };
    const analysis = analyzeRoute(route, recording);
    this.analyses.set(routeKey, {
      spec: route.spec,
      metadata: route.metadata,
      analysis,
      services,
      grants,
      entries: [],
    });
    return analysis;
  }

  /**
   * The route's entries served under `host` (from its hostname `routeHost`):
   * one per rule match, shared by every listener with that intersection.
   */
  entriesOf(routeKey: string, host: string, routeHost: string): readonly AttachedEntry[] {
    const cached = this.analyses.get(routeKey)!;
    for (const c of cached.entries) if (c.host === host && c.routeHost === routeHost) return c.list;
    const analysis = cached.analysis;
    const list: AttachedEntry[] = [];
    for (const template of analysis.rules)
      template.matches.forEach((match, matchIndex) => {
        const e: AttachedEntry = {
          analysis,
          template,
          host,
          routeHost,
          match,
          created: analysis.created,
          routeKey: analysis.key,
          rule: template.index,
          matchIndex,
          route: undefined, // every entry has the same shape
        };
        (e as { route?: Route }).route = listenerIndependentRoute(e);
        list.push(e);
      });
    cached.entries.push({ host, routeHost, list });
    return list;
  }

  /**
   * A Gateway listener's virtual hosts on one chain, reused when its entries
   * (identical objects, in the same order) and `context` (what else they
   * depend on) are unchanged.
   */
  listenerVirtualHosts(
    key: string,
    entries: readonly AttachedEntry[],
    context: string,
    build: () => VirtualHost[],
  ): VirtualHost[] {
    if (this.oneShot) return build();
    const old = this.listenerHosts.get(key);
    if (old && old.context === context && sameItems(old.entries, entries)) return old.virtualHosts;
    let virtualHosts = build();
    if (old) {
      // Rebuilt: each virtual host whose routes did not change is still reused.
      const before = new Map(old.virtualHosts.map((vh) => [vh.name, vh]));
      virtualHosts = virtualHosts.map((vh) => {
        const b = before.get(vh.name);
        return b && sameVirtualHost(b, vh) ? b : vh;
      });
    }
    this.listenerHosts.set(key, { entries, context, virtualHosts });
    return virtualHosts;
  }

  /**
   * The cluster of a Service port, resolved again only when the Service, its
   * slices or the BackendTLSPolicy outcome for the port changed. Fleets that
   * present different client certificates (by TlsSecret name) get different
   * clusters, cached apart: the name is part of the key.
   */
  cluster(
    spec: ClusterSpec,
    services: { get(key: string): Service | undefined },
    endpointSlices: { get(key: string): readonly EndpointSlice[] | undefined },
    backendTls?: BackendTlsIndex,
    clientCertificate?: string,
  ): Cluster {
    const cacheKey =
      clientCertificate === undefined ? spec.name : `${spec.name}\0${clientCertificate}`;
    const c = this.clusters.get(cacheKey);
    // The key string is kept: hashing a new string per cluster and translation shows in profiles.
    const serviceKey =
      c && c.spec === spec ? c.serviceKey : `${spec.service.namespace}/${spec.service.name}`;
    const service = services.get(serviceKey);
    const slices = endpointSlices.get(serviceKey) ?? NO_SLICES;
    const portTls = backendTls?.forPort(
      service,
      spec.service.namespace,
      spec.service.name,
      spec.service.port,
    );
    const tls = portTls === undefined ? '' : JSON.stringify(portTls);
    if (
      c &&
      c.service === service &&
      c.tls === tls &&
      c.spec.protocol === spec.protocol &&
      c.spec.service.namespace === spec.service.namespace &&
      c.spec.service.name === spec.service.name &&
      c.spec.service.port === spec.service.port &&
      sameItems(c.slices, slices)
    )
      return c.cluster;
    let cluster = resolveCluster(spec, service, slices);
    // A port whose policy is invalid gets no endpoints (503): never plain
    // text or unverified TLS to a backend that asked for verified TLS.
    if (portTls && 'refused' in portTls) cluster = { ...cluster, endpoints: [] };
    else if (portTls)
      cluster = {
        ...cluster,
        tls: clientCertificate === undefined ? portTls.tls : { ...portTls.tls, clientCertificate },
      };
    this.clusters.set(cacheKey, { spec, serviceKey, service, slices, tls, cluster });
    return cluster;
  }

  // Chains, listeners and node groups are few: their other fields (present
  // and future) are compared as JSON, their large lists item by item.

  filterChain(nodeGroup: string, fc: FilterChain): FilterChain {
    return this.reuse(this.filterChains, `${nodeGroup}\0${fc.name}`, fc, (a, b) => {
      return (
        a.virtualHosts.length === b.virtualHosts.length &&
        a.virtualHosts.every((vh, i) => sameVirtualHost(vh, b.virtualHosts[i]!)) &&
        sameExcept(a, b, 'virtualHosts')
      );
    });
  }

  listener(nodeGroup: string, l: Listener): Listener {
    return this.reuse(this.listeners, `${nodeGroup}\0${l.name}`, l, (a, b) => {
      return sameItems(a.filterChains, b.filterChains) && sameExcept(a, b, 'filterChains');
    });
  }

  nodeGroup(g: NodeGroup): NodeGroup {
    return this.reuse(this.nodeGroups, g.name, g, (a, b) => {
      return (
        sameItems(a.listeners, b.listeners) &&
        sameItems(a.clusters, b.clusters) &&
        sameExcept(a, b, 'listeners', 'clusters')
      );
    });
  }

  /** The clusters a virtual host's routes send to (mirrors included). */
  clustersOf(vh: VirtualHost): readonly string[] {
    let names = this.oneShot ? undefined : this.clusterNames.get(vh);
    if (!names) {
      const set = new Set<string>();
      for (const r of vh.routes) {
        if (r.action.type !== 'Forward') continue;
        for (const b of r.action.backends) if (b.cluster) set.add(b.cluster);
        for (const m of r.action.mirrors) set.add(m.cluster);
      }
      names = [...set];
      if (!this.oneShot) this.clusterNames.set(vh, names);
    }
    return names;
  }

  /** Called once a translation is complete: what it did not use is forgotten after the next. */
  rotate(): void {
    this.clusters.rotate();
    this.analyses.rotate();
    this.clusterNames.rotate();
    this.listenerHosts.rotate();
    this.filterChains.rotate();
    this.listeners.rotate();
    this.nodeGroups.rotate();
  }

  private reuse<T>(
    store: Generations<string, T>,
    key: string,
    fresh: T,
    same: (a: T, b: T) => boolean,
  ): T {
    if (this.oneShot) return fresh;
    const old = store.get(key);
    if (old !== undefined && same(old, fresh)) return old;
    store.set(key, fresh);
    return fresh;
  }
}
