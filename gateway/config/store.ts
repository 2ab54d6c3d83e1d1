// The gateway's configuration: every xDS resource received, compiled, and
// assembled into one immutable GatewayConfig. An update is applied as a
// transaction: decoded, validated and compiled against the current state; if
// anything fails, nothing changes and the error names the resource (it
// becomes the NACK). Requests capture the GatewayConfig they start with, so a
// swap never changes a request in flight.
import { TypeUrl } from '../../xds/proto/root.js';
import {
  compileCluster,
  compileLoadAssignment,
  type CompiledClusterSpec,
  type UpstreamEndpoint,
} from './clusters.js';
import { ConfigError, decodeResource } from './decode.js';
import { compileListener, type CompiledListener } from './listeners.js';
import type { CompiledRouteTable } from './routes.js';
import { RouteTableCompiler } from './route-table-compiler.js';
import { compileSecret, type CompiledSecret } from './secrets.js';

export interface ClusterRuntime {
  spec: CompiledClusterSpec;
  /**
   * Undefined until the cluster's ClusterLoadAssignment has arrived — and,
   * for a TLS cluster with a client certificate, until that Secret has too
   * (never connect without the certificate the backend may require).
   */
  endpoints?: UpstreamEndpoint[];
  /** The client certificate the cluster's TLS connections present. */
  clientCertificate?: CompiledSecret;
}

export interface GatewayConfig {
  /** Monotonic per process; for logs and config dumps. */
  generation: number;
  /** Listeners ready to serve: their route tables and certificates are present. */
  listeners: Map<string, CompiledListener>;
  routeTables: Map<string, CompiledRouteTable>;
  clusters: Map<string, ClusterRuntime>;
  secrets: Map<string, CompiledSecret>;
  /** Listeners received but waiting for a route table or certificate, with what they wait for. */
  warming: Map<string, string>;
  /** True once every listener and cluster has everything it refers to. */
  complete: boolean;
}

export interface ResourceUpdate {
  name: string;
  version: string;
  bytes: Uint8Array;
}

/**
 * What the store keeps per resource: its compiled form, and its protobuf
 * bytes (copied out of the response) for the config dump. The decoded
 * object is dropped after compiling: at 5,000 routes it weighs about five
 * times the bytes, and only /config_dump ever needs it again.
 */
interface Entry<T> {
  version: string;
  bytes: Uint8Array;
  compiled: T;
}

type Kind = 'listeners' | 'routes' | 'clusters' | 'endpoints' | 'secrets';

const KIND_OF: Record<string, Kind> = {
  [TypeUrl.Listener]: 'listeners',
  [TypeUrl.RouteConfiguration]: 'routes',
  [TypeUrl.Cluster]: 'clusters',
  [TypeUrl.ClusterLoadAssignment]: 'endpoints',
  [TypeUrl.Secret]: 'secrets',
};

/** How each kind but RouteConfiguration (RouteTableCompiler) is compiled from its decoded form. */
const COMPILE: Record<Exclude<Kind, 'routes'>, (raw: never) => unknown> = {
  listeners: compileListener,
  clusters: compileCluster,
  endpoints: compileLoadAssignment,
  secrets: compileSecret,
};

export class ConfigStore {
  private entries: Record<Kind, Map<string, Entry<unknown>>> = {
    listeners: new Map(),
    routes: new Map(),
    clusters: new Map(),
    endpoints: new Map(),
    secrets: new Map(),
  };
  private generation = 0;
  /** Compiled routes shared across versions and listeners, by their bytes. */
  private readonly routeTables = new RouteTableCompiler();
  current: GatewayConfig = this.assemble(this.entries);

  /** Versions held per type, for `initial_resource_versions` on reconnect and the config dump. */
  versions(typeUrl: string): Map<string, string> {
    const kind = KIND_OF[typeUrl];
    return new Map(
      [...(kind ? this.entries[kind] : new Map<string, Entry<unknown>>())].map(([n, e]) => [
        n,
        e.version,
      ]),
    );
  }

  /** Resources held per type as received (protobuf bytes), for the config dump. */
  encoded(typeUrl: string): { name: string; version: string; bytes: Uint8Array }[] {
    const kind = KIND_OF[typeUrl];
    if (!kind) return [];
    return [...this.entries[kind]]
      .map(([name, e]) => ({ name, version: e.version, bytes: e.bytes }))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /**
   * Prepares an update without applying it. `replace` (state of the world)
   * means the update carries the whole set of this type. Throws ConfigError.
   */
  prepare(
    typeUrl: string,
    upserts: readonly ResourceUpdate[],
    removals: readonly string[],
    replace: boolean,
  ): GatewayConfig & { commit: () => void } {
    const kind = KIND_OF[typeUrl];
    if (!kind) throw new ConfigError(`resource type ${typeUrl} is not supported`);
    const next = replace ? new Map<string, Entry<unknown>>() : new Map(this.entries[kind]);
    for (const n of removals) next.delete(n);
    const seen = new Set<string>();
    for (const u of upserts) {
      if (u.name !== '') {
        if (seen.has(u.name))
          throw new ConfigError(`${kind}: resource ${u.name} appears twice in one response`);
        const prev = this.entries[kind].get(u.name);
        if (prev && prev.version === u.version) {
          seen.add(u.name);
          next.set(u.name, prev);
          continue;
        }
      }
      const { own, compiled } = this.decodeAndCompile(
        kind,
        typeUrl,
        u.bytes,
        u.name || '(unnamed)',
      );
      if (u.name !== '' && own !== u.name) {
        throw new ConfigError(
          `${kind}: resource named ${u.name} carries the name ${own || '(none)'}`,
        );
      }
      if (u.name === '' && seen.has(own))
        throw new ConfigError(`${kind}: resource ${own} appears twice in one response`);
      seen.add(own);
      const prev = this.entries[kind].get(own);
      next.set(
        own,
        prev && prev.version === u.version
          ? prev
          : {
              version: u.version,
              bytes: Buffer.from(u.bytes),
              compiled,
            },
      );
    }
    const entries = { ...this.entries, [kind]: next };
    const config = this.assemble(entries);
    return Object.assign(config, {
      commit: () => {
        this.entries = entries;
        this.current = config;
        if (kind === 'routes') this.routeTables.retain(config.routeTables.values());
      },
    });
  }

  /** A resource's own name and compiled form; throws ConfigError naming what is wrong. */
  private decodeAndCompile(
    kind: Kind,
    typeUrl: string,
    bytes: Uint8Array,
    name: string,
  ): { own: string; compiled: unknown } {
    if (kind === 'routes') {
      const { own, table } = this.routeTables.compile(bytes, name);
      return { own, compiled: table };
    }
    const raw = decodeResource<{ name?: string; cluster_name?: string }>(typeUrl, bytes, name);
    const own = (kind === 'endpoints' ? raw.cluster_name : raw.name) ?? '';
    return { own, compiled: (COMPILE[kind] as (r: unknown) => unknown)(raw) };
  }

  private assemble(e: Record<Kind, Map<string, Entry<unknown>>>): GatewayConfig {
    const routeTables = new Map(
      [...e.routes].map(([n, x]) => [n, x.compiled as CompiledRouteTable]),
    );
    const secrets = new Map([...e.secrets].map(([n, x]) => [n, x.compiled as CompiledSecret]));
    const clusters = new Map<string, ClusterRuntime>();
    let complete = true;
    for (const [n, x] of e.clusters) {
      const spec = x.compiled as CompiledClusterSpec;
      const endpoints = e.endpoints.get(spec.edsName)?.compiled as UpstreamEndpoint[] | undefined;
      const wanted = spec.tls?.clientCertificate;
      const clientCertificate = wanted === undefined ? undefined : secrets.get(wanted);
      if (!endpoints || (wanted !== undefined && !clientCertificate)) {
        complete = false;
        clusters.set(n, { spec });
      } else
        clusters.set(
          n,
          clientCertificate ? { spec, endpoints, clientCertificate } : { spec, endpoints },
        );
    }
    const listeners = new Map<string, CompiledListener>();
    const warming = new Map<string, string>();
    for (const [n, x] of e.listeners) {
      const l = x.compiled as CompiledListener;
      const missing = l.chains.flatMap((c) => [
        ...(routeTables.has(c.routeTable) ? [] : [`RouteConfiguration ${c.routeTable}`]),
        ...c.certificates.filter((s) => !secrets.has(s)).map((s) => `Secret ${s}`),
      ]);
      if (missing.length > 0) {
        warming.set(n, missing.join(', '));
        complete = false;
        // Keep serving the previous version of a listener while its new one warms.
        const prev = this.current?.listeners.get(n);
        if (prev) listeners.set(n, prev);
      } else listeners.set(n, l);
    }
    return {
      generation: ++this.generation,
      listeners,
      routeTables,
      clusters,
      secrets,
      warming,
      complete,
    };
  }
}
