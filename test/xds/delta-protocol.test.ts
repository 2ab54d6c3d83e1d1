// Incremental (delta) ADS over real gRPC streams on loopback.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TypeUrl } from '../../xds/proto/root.js';
import { XdsServer } from '../../xds/server/ads-server.js';
import { DeltaClient } from '../support/ads-client.js';
import { NODE_GROUP, World } from '../support/xds-world.js';

describe('incremental ADS', () => {
  let world: World;
  let server: XdsServer;
  let port: number;
  const clients: DeltaClient[] = [];
  const connect = (id = 'gw-a') => {
    const c = new DeltaClient(port, { id, cluster: NODE_GROUP });
    clients.push(c);
    return c;
  };
  const names = (r: { resources?: { name?: string }[] }) =>
    (r.resources ?? []).map((x) => x.name).sort();

  beforeEach(async () => {
    world = new World(3);
    server = new XdsServer({ cache: world.cache });
    port = await server.listen('127.0.0.1:0');
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await server.close();
  });

  it('holds streams until the first snapshot, then sends every resource of a wildcard subscription', async () => {
    const c = connect();
    c.send({ type_url: TypeUrl.Cluster, resource_names_subscribe: ['*'] });
    await c.responses.none(300);
    world.publish();
    const r = await c.next();
    expect(names(r)).toHaveLength(6);
    expect(r.resources!.every((x) => x.version && x.resource?.type_url === TypeUrl.Cluster)).toBe(
      true,
    );
  });

  it('sends only what changed: a one-route edit is one resource per route table', async () => {
    world.publish();
    const c = connect();
    c.send({ type_url: TypeUrl.RouteConfiguration, resource_names_subscribe: ['*'] });
    c.ack(await c.next());
    c.send({ type_url: TypeUrl.Cluster, resource_names_subscribe: ['*'] });
    c.ack(await c.next());
    world.editRoute(1, 2);
    world.publish();
    const r = await c.next();
    expect(r.type_url).toBe(TypeUrl.RouteConfiguration);
    expect(names(r)).toEqual(['http-8080', 'https-8443/infra/gw-0/https']);
    await c.responses.none(300); // clusters did not change: no CDS response
  });

  it('lists removed resources after the additions and updates of every type', async () => {
    world.publish();
    const c = connect();
    for (const t of [TypeUrl.Cluster, TypeUrl.RouteConfiguration]) {
      c.send({ type_url: t, resource_names_subscribe: ['*'] });
      c.ack(await c.next());
    }
    world.removeRoute(2);
    world.addRoute(5);
    world.publish();
    const seen: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await c.next();
      seen.push(
        `${r.type_url!.split('.').pop()} +${names(r).length} -${(r.removed_resources ?? []).sort().join(',')}`,
      );
    }
    expect(seen).toEqual([
      'Cluster +2 -',
      'RouteConfiguration +2 -',
      'Cluster +0 -team-0/svc-2/80,team-0/svc-2/81',
    ]);
  });

  it('honours initial_resource_versions on reconnect: only what changed meanwhile is sent', async () => {
    world.publish();
    const a = connect();
    a.send({ type_url: TypeUrl.Cluster, resource_names_subscribe: ['*'] });
    const first = await a.next();
    a.close();
    const held = Object.fromEntries(first.resources!.map((r) => [r.name!, r.version!]));
    world.removeRoute(0);
    world.addRoute(4);
    world.publish();
    const b = connect();
    b.send({
      type_url: TypeUrl.Cluster,
      resource_names_subscribe: ['*'],
      initial_resource_versions: held,
    });
    const r = await b.next();
    expect(names(r)).toEqual(['team-0/svc-4/80', 'team-0/svc-4/81']);
    const removal = await b.next();
    expect(removal.removed_resources!.sort()).toEqual(['team-0/svc-0/80', 'team-0/svc-0/81']);
    await b.responses.none(300);
  });

  it('always sends a name subscribed after the stream started, even at a version the client claims', async () => {
    world.publish();
    const c = connect();
    const name = 'team-1/svc-1/80';
    c.send({
      type_url: TypeUrl.ClusterLoadAssignment,
      resource_names_subscribe: [name],
      initial_resource_versions: {
        [name]: world.cache
          .get(NODE_GROUP)!
          .types.get(TypeUrl.ClusterLoadAssignment)!
          .resources.get(name)!.version,
      },
    });
    await c.responses.none(300); // the reconnecting client already holds it
    c.send({ type_url: TypeUrl.ClusterLoadAssignment, resource_names_unsubscribe: [name] });
    c.send({ type_url: TypeUrl.ClusterLoadAssignment, resource_names_subscribe: [name] });
    const r = await c.next();
    expect(names(r)).toEqual([name]);
  });

  it('answers a name that does not exist with removed_resources, and sends it when it appears', async () => {
    world.publish();
    const c = connect();
    c.send({
      type_url: TypeUrl.ClusterLoadAssignment,
      resource_names_subscribe: ['team-1/svc-7/80'],
    });
    const missing = await c.next();
    expect(missing.removed_resources).toEqual(['team-1/svc-7/80']);
    c.ack(missing);
    world.addRoute(7);
    world.publish();
    const r = await c.next();
    expect(names(r)).toEqual(['team-1/svc-7/80']);
  });

  it('applies subscription changes even when the nonce is stale', async () => {
    world.publish();
    const c = connect();
    c.send({
      type_url: TypeUrl.ClusterLoadAssignment,
      resource_names_subscribe: ['team-0/svc-0/80'],
    });
    const first = await c.next();
    c.send({
      type_url: TypeUrl.ClusterLoadAssignment,
      response_nonce: 'stale-nonce',
      resource_names_subscribe: ['team-1/svc-1/80'],
    });
    const r = await c.next();
    expect(first.nonce).not.toBe(r.nonce);
    expect(names(r)).toEqual(['team-1/svc-1/80']);
  });

  it('re-sends the endpoints of a changed cluster so Envoy can finish warming it', async () => {
    world.publish();
    const c = connect();
    for (const t of [TypeUrl.Cluster, TypeUrl.ClusterLoadAssignment]) {
      c.send({ type_url: t, resource_names_subscribe: ['*'] });
      c.ack(await c.next());
    }
    world.setAppProtocol('svc-1', 80, 'kubernetes.io/h2c');
    world.publish();
    const cds = await c.next();
    expect([cds.type_url, names(cds)]).toEqual([TypeUrl.Cluster, ['team-1/svc-1/80']]);
    const eds = await c.next();
    expect([eds.type_url, names(eds)]).toEqual([
      TypeUrl.ClusterLoadAssignment,
      ['team-1/svc-1/80'],
    ]);
  });

  it('records NACKs and does not resend the refused resources', async () => {
    world.publish();
    const c = connect();
    c.send({ type_url: TypeUrl.Listener, resource_names_subscribe: ['*'] });
    const r = await c.next();
    c.send({
      type_url: TypeUrl.Listener,
      response_nonce: r.nonce,
      error_detail: { code: 3, message: 'bind 8443: permission denied' },
    });
    await c.responses.none(300);
    const state = server.nodes.get('gw-a')!;
    expect(state.types[TypeUrl.Listener]!.lastNack!.message).toBe('bind 8443: permission denied');
    expect(state.appliedVersion).toBeUndefined();
  });
});
