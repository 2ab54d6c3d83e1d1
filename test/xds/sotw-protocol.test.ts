// State-of-the-world ADS over real gRPC streams on loopback.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TypeUrl } from '../../xds/proto/root.js';
import { XdsServer } from '../../xds/server/ads-server.js';
import { SotwClient } from '../support/ads-client.js';
import { NODE_GROUP, World } from '../support/xds-world.js';

const node = (id: string, cluster = NODE_GROUP) => ({ id, cluster });

describe('state-of-the-world ADS', () => {
  let world: World;
  let server: XdsServer;
  let port: number;
  const clients: SotwClient[] = [];
  const connect = (id: string, cluster?: string) => {
    const c = new SotwClient(port, node(id, cluster));
    clients.push(c);
    return c;
  };

  beforeEach(async () => {
    world = new World(3);
    server = new XdsServer({ cache: world.cache });
    port = await server.listen('127.0.0.1:0');
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await server.close();
  });

  it('answers nothing before the first complete snapshot, then everything requested', async () => {
    const c = connect('gw-a');
    c.send({ type_url: TypeUrl.Cluster, resource_names: [] });
    c.send({ type_url: TypeUrl.Listener, resource_names: [] });
    await c.responses.none(300);
    world.publish();
    const cds = await c.next();
    expect(cds.type_url).toBe(TypeUrl.Cluster);
    expect(cds.resources).toHaveLength(6); // two ports of three services
    const lds = await c.next();
    expect(lds.type_url).toBe(TypeUrl.Listener);
    expect(lds.resources).toHaveLength(2);
  });

  it('records ACKs per node and type and sends nothing more while nothing changes', async () => {
    world.publish();
    const c = connect('gw-a');
    c.send({ type_url: TypeUrl.Cluster, resource_names: [] });
    const cds = await c.next();
    c.ack(cds);
    await c.responses.none(300);
    const state = server.nodes.get('gw-a')!;
    expect(state.nodeGroup).toBe(NODE_GROUP);
    expect(state.types[TypeUrl.Cluster]!.ackedVersion).toBe(cds.version_info);
    world.publish(); // identical content: identical versions
    await c.responses.none(300);
    const metrics = await server.metrics.registry.metrics();
    expect(metrics).toContain(
      `gatefleet_xds_responses_total{type_url="${TypeUrl.Cluster}",mode="sotw"} 1`,
    );
    expect(metrics).toContain(`gatefleet_xds_acks_total{type_url="${TypeUrl.Cluster}"} 1`);
    expect(metrics).toContain(`gatefleet_xds_connected_nodes{node_group="${NODE_GROUP}"} 1`);
    expect(metrics).toMatch(/gatefleet_xds_response_bytes_total\{[^}]*\} [1-9]\d+/);
  });

  it('records a NACK with its message, keeps quiet about the refused version, and sends the next one', async () => {
    world.publish();
    const c = connect('gw-a');
    c.send({ type_url: TypeUrl.RouteConfiguration, resource_names: ['http-8080'] });
    const rds = await c.next();
    c.send({
      type_url: TypeUrl.RouteConfiguration,
      version_info: '',
      resource_names: ['http-8080'],
      response_nonce: rds.nonce,
      error_detail: { code: 3, message: 'route infra/x: unsupported regex' },
    });
    await c.responses.none(300);
    const nack = server.nodes.get('gw-a')!.types[TypeUrl.RouteConfiguration]!.lastNack!;
    // The version refused is the snapshot's, as in delta mode.
    expect(nack).toMatchObject({
      version: world.cache.get(NODE_GROUP)!.version,
      message: 'route infra/x: unsupported regex',
    });
    const metrics = await server.metrics.registry.getSingleMetricAsString(
      'gatefleet_xds_nacks_total',
    );
    expect(metrics).toContain(
      `gatefleet_xds_nacks_total{type_url="${TypeUrl.RouteConfiguration}",node_group="${NODE_GROUP}"} 1`,
    );
    world.editRoute(1, 1);
    world.publish();
    const next = await c.next();
    expect(next.type_url).toBe(TypeUrl.RouteConfiguration);
    expect(next.version_info).not.toBe(rds.version_info);
  });

  it('ignores a request carrying a stale nonce', async () => {
    world.publish();
    const c = connect('gw-a');
    c.send({ type_url: TypeUrl.RouteConfiguration, resource_names: ['http-8080'] });
    const first = await c.next();
    world.editRoute(0, 1);
    world.publish();
    const second = await c.next();
    expect(second.nonce).not.toBe(first.nonce);
    // A late request answering the first response asks for another name: ignored.
    c.send({
      type_url: TypeUrl.RouteConfiguration,
      response_nonce: first.nonce,
      version_info: first.version_info,
      resource_names: ['http-8080', 'https-8443/infra/gw-0/https'],
    });
    await c.responses.none(300);
    c.ack(second, ['http-8080', 'https-8443/infra/gw-0/https']);
    const third = await c.next();
    expect(third.resources).toHaveLength(2);
  });

  it('sends a named resource that did not exist when it was requested as soon as it appears', async () => {
    world.publish();
    const c = connect('gw-a');
    c.send({ type_url: TypeUrl.ClusterLoadAssignment, resource_names: ['team-1/svc-9/80'] });
    await c.responses.none(300);
    world.addRoute(9);
    world.publish();
    const eds = await c.next();
    expect(eds.type_url).toBe(TypeUrl.ClusterLoadAssignment);
    expect(eds.resources).toHaveLength(1);
  });

  it('answers the first request of a reconnecting gateway even at the version it holds', async () => {
    world.publish();
    const a = connect('gw-a');
    a.send({ type_url: TypeUrl.Cluster, resource_names: [] });
    const before = await a.next();
    a.close();
    const b = connect('gw-a');
    b.send({ type_url: TypeUrl.Cluster, resource_names: [], version_info: before.version_info });
    const after = await b.next();
    expect(after.version_info).toBe(before.version_info);
    expect(after.resources).toHaveLength(before.resources!.length);
  });

  it('pushes CDS, EDS, LDS, RDS in that order and removes clusters only after the routes stopped using them', async () => {
    world.publish();
    const c = connect('gw-a');
    c.send({ type_url: TypeUrl.Cluster, resource_names: [] });
    const cds = await c.next();
    c.ack(cds);
    const eds = ['team-0/svc-0/80', 'team-0/svc-2/80'];
    c.send({ type_url: TypeUrl.ClusterLoadAssignment, resource_names: eds });
    c.ack(await c.next(), eds);
    c.send({ type_url: TypeUrl.Listener, resource_names: [] });
    c.ack(await c.next());
    c.send({ type_url: TypeUrl.RouteConfiguration, resource_names: ['http-8080'] });
    c.ack(await c.next(), ['http-8080']);
    await c.responses.none(200);

    world.removeRoute(2);
    world.editRoute(0, 1);
    world.setAddress('127.0.0.9');
    world.publish();
    const seen: [string, number][] = [];
    for (let i = 0; i < 5; i++) {
      const r = await c.next().catch((e: Error) => {
        throw new Error(`${e.message} after ${JSON.stringify(seen)}`);
      });
      seen.push([r.type_url!.split('.').pop()!, r.resources!.length]);
    }
    await c.responses.none(200);
    // The first CDS response still carries svc-2's two clusters; the last one drops them.
    expect(seen).toEqual([
      ['Cluster', 6],
      ['ClusterLoadAssignment', 1],
      ['Listener', 2],
      ['RouteConfiguration', 1],
      ['Cluster', 4],
    ]);
  });

  it('re-sends the endpoints of a changed cluster so Envoy can finish warming it', async () => {
    world.publish();
    const c = connect('gw-a');
    c.send({ type_url: TypeUrl.Cluster, resource_names: [] });
    c.ack(await c.next());
    const eds = ['team-1/svc-1/80'];
    c.send({ type_url: TypeUrl.ClusterLoadAssignment, resource_names: eds });
    const before = await c.next();
    c.ack(before, eds);
    world.setAppProtocol('svc-1', 80, 'kubernetes.io/h2c');
    world.publish();
    expect((await c.next()).type_url).toBe(TypeUrl.Cluster);
    const again = await c.next();
    expect(again.type_url).toBe(TypeUrl.ClusterLoadAssignment);
    expect(again.version_info).toBe(before.version_info);
  });

  it('tracks connected nodes per group and forgets a node when its last stream closes', async () => {
    world.publish();
    const a = connect('gw-a');
    const b = connect('gw-b', 'other/group');
    a.send({ type_url: TypeUrl.Cluster, resource_names: [] });
    b.send({ type_url: TypeUrl.Cluster, resource_names: [] });
    await a.next();
    await b.responses.none(200); // unknown node group: held, never an empty configuration
    expect(server.nodes.list().map((n) => [n.id, n.nodeGroup])).toEqual([
      ['gw-a', NODE_GROUP],
      ['gw-b', 'other/group'],
    ]);
    a.close();
    await new Promise((r) => setTimeout(r, 200));
    expect(server.nodes.list().map((n) => n.id)).toEqual(['gw-b']);
  });

  it('rejects a stream whose first request names no node group', async () => {
    world.publish();
    const c = connect('gw-a', '');
    c.send({ type_url: TypeUrl.Cluster, resource_names: [] });
    await expect(c.next(1_000)).rejects.toThrow(/node.cluster must name/);
  });

  it('reports a node as having applied the snapshot only once it ACKed every type', async () => {
    world.publish();
    const c = connect('gw-a');
    const snapVersion = world.cache.get(NODE_GROUP)!.version;
    c.send({ type_url: TypeUrl.Cluster, resource_names: [] });
    c.ack(await c.next());
    c.send({ type_url: TypeUrl.Listener, resource_names: [] });
    c.ack(await c.next());
    await new Promise((r) => setTimeout(r, 100));
    expect(server.nodes.get('gw-a')!.appliedVersion).toBeUndefined(); // no EDS, RDS or SDS yet
    const eds = world.cache.get(NODE_GROUP)!.types.get(TypeUrl.ClusterLoadAssignment)!;
    const names = [...eds.resources.keys()];
    c.send({ type_url: TypeUrl.ClusterLoadAssignment, resource_names: names });
    c.ack(await c.next(), names);
    c.send({ type_url: TypeUrl.Secret, resource_names: ['infra/wildcard-cert'] });
    c.ack(await c.next(), ['infra/wildcard-cert']);
    const rds = ['http-8080', 'https-8443/infra/gw-0/https'];
    c.send({ type_url: TypeUrl.RouteConfiguration, resource_names: rds });
    c.ack(await c.next(), rds);
    await new Promise((r) => setTimeout(r, 100));
    expect(server.nodes.get('gw-a')!.appliedVersion).toBe(snapVersion);
  });
});
