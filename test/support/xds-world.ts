// A small cluster for xDS tests: one Gateway (HTTP and HTTPS listeners) with
// N routes, translated and published into a SnapshotCache like the controller
// does.
import { generateCluster, routeObjects } from '../../bench/fixtures.js';
import { inputsOf, translate } from '../../controller/translator/index.js';
import { SnapshotCache } from '../../xds/cache.js';
import { publishIR } from '../../xds/publish.js';

export const NODE_GROUP = 'infra/gw-0';

export class World {
  readonly cache = new SnapshotCache();
  private objects: Record<string, unknown>[];

  constructor(routes: number) {
    this.objects = generateCluster({ routes, namespaces: 2, gateways: 1 });
  }

  publish(): string[] {
    const { ir } = translate(inputsOf(this.objects), { now: '2026-01-01T00:00:00Z' });
    const r = publishIR(ir, this.cache);
    if (r.rejected.length > 0) throw new Error(JSON.stringify(r.rejected));
    return r.changed;
  }

  /** Replaces route `i` with a variant (a different header value): one RDS resource changes. */
  editRoute(i: number, variant: number): void {
    const [route] = routeObjects(i, 2, 1, variant);
    const name = (route!.metadata as { name: string }).name;
    this.objects = this.objects.map((o) =>
      o.kind === 'HTTPRoute' && (o.metadata as { name: string }).name === name ? route! : o,
    );
  }

  /** Binds the Gateway to an address: every listener changes, nothing else. */
  setAddress(address: string): void {
    this.objects = this.objects.map((o) =>
      o.kind === 'Gateway'
        ? {
            ...o,
            spec: { ...(o.spec as object), addresses: [{ type: 'IPAddress', value: address }] },
          }
        : o,
    );
  }

  /** Changes a Service port's appProtocol: its Cluster changes, its endpoints do not. */
  setAppProtocol(service: string, port: number, appProtocol: string): void {
    this.objects = this.objects.map((o) => {
      if (o.kind !== 'Service' || (o.metadata as { name: string }).name !== service) return o;
      const spec = o.spec as { ports: { port: number }[] };
      return {
        ...o,
        spec: {
          ...spec,
          ports: spec.ports.map((p) => (p.port === port ? { ...p, appProtocol } : p)),
        },
      };
    });
  }

  /** Adds route `i` with its Service and endpoints. */
  addRoute(i: number): void {
    this.objects.push(...routeObjects(i, 2, 1));
  }

  /** Removes route `i` and its Service: its clusters go away. */
  removeRoute(i: number): void {
    this.objects = this.objects.filter((o) => {
      const name = (o.metadata as { name?: string }).name ?? '';
      return !(name === `route-${i}` || name === `svc-${i}` || name === `svc-${i}-abc`);
    });
  }
}
