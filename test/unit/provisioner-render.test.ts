// render and placement rules beyond the golden files: the admin and
// readiness ports are never a Service port whatever the listener ports, the
// pods roll when their configuration or certificate changes (and only
// then), and the owners of merged fleets.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Fleet } from '../../controller/ir/types.js';
import type { KubeObject } from '../../controller/providers/kube/kinds.js';
import { Annotation } from '../../controller/provisioner/names.js';
import {
  placeFleet,
  renderNodeGroup,
  type FleetPlacement,
} from '../../controller/provisioner/render.js';
import {
  DEFAULT_ENVOY_IMAGE,
  type ProvisionerSettings,
} from '../../controller/provisioner/settings.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const settings: ProvisionerSettings = {
  gatewayImage: 'gatefleet/gateway:test',
  envoyImage: DEFAULT_ENVOY_IMAGE,
  xdsAddress: 'xds.gatefleet-system.svc:18000',
  controllerNamespace: 'gatefleet-system',
};
const placement: FleetPlacement = { namespace: 'infra', owners: [] };
const cert = { 'ca.crt': 'ca', 'tls.crt': 'crt', 'tls.key': 'key' };

function fleetWithPorts(ports: number[], dataPlane: 'gatefleet' | 'envoy' = 'gatefleet'): Fleet {
  return {
    name: 'infra/web',
    gateways: [{ namespace: 'infra', name: 'web' }],
    infrastructure: { labels: {}, annotations: {}, addresses: [] },
    deployment: { replicas: 1, serviceType: 'LoadBalancer', dataPlane },
    nodeGroups: [
      {
        name: 'infra/web',
        replicas: 1,
        listeners: ports.map((port) => ({
          name: `http-${port}`,
          port,
          protocol: 'HTTP' as const,
          filterChains: [],
        })),
        clusters: [],
        secrets: [],
      },
    ],
  };
}

function objectsOf(fleet: Fleet, c = cert): Map<string, Obj> {
  const r = renderNodeGroup({
    fleet,
    group: fleet.nodeGroups[0]!,
    settings,
    placement,
    clientCertificate: c,
  });
  return new Map(r.objects.map((o: KubeObject) => [o.kind!, o as Obj]));
}

describe('render', () => {
  it('never puts the admin or readiness port on the Service, nor lets them collide with a listener', () => {
    const port = fc.oneof(
      fc.constantFrom(15000, 15001, 15021, 15022),
      fc.integer({ min: 1, max: 65535 }),
    );
    fc.assert(
      fc.property(
        fc.uniqueArray(port, { minLength: 1, maxLength: 6 }),
        fc.constantFrom('gatefleet' as const, 'envoy' as const),
        (ports, dataPlane) => {
          const o = objectsOf(fleetWithPorts(ports, dataPlane));
          const svcPorts = o.get('Service')!.spec.ports.map((p: Obj) => p.port);
          expect(svcPorts).toEqual(ports);
          const container = o.get('Deployment')!.spec.template.spec.containers[0];
          const probePort = container.readinessProbe.httpGet.port;
          expect(ports).not.toContain(probePort);
          const containerPorts = container.ports.map((p: Obj) => p.containerPort);
          expect(new Set(containerPorts).size).toBe(containerPorts.length);
          if (dataPlane === 'gatefleet') {
            expect(o.get('ConfigMap')!.data.GATEFLEET_ADMIN).toBe(`0.0.0.0:${probePort}`);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('rolls the pods when the certificate or the settings change, and only then', () => {
    const hash = (f: Fleet, c = cert) =>
      objectsOf(f, c).get('Deployment')!.spec.template.metadata.annotations[Annotation.ConfigHash];
    const f = fleetWithPorts([80]);
    expect(hash(f)).toBe(hash(fleetWithPorts([80])));
    expect(hash(f, { ...cert, 'tls.crt': 'rotated' })).not.toBe(hash(f));
    const labelled = fleetWithPorts([80]);
    labelled.deployment.replicas = 5;
    expect(hash(labelled)).toBe(hash(f));
    expect(hash(fleetWithPorts([80], 'envoy'))).not.toBe(hash(f));
  });

  it('leaves replicas to the HPA when autoscaled', () => {
    const f = fleetWithPorts([80]);
    expect(objectsOf(f).get('Deployment')!.spec.replicas).toBe(1);
    expect(objectsOf(f).has('HorizontalPodAutoscaler')).toBe(false);
    f.deployment.minReplicas = 2;
    f.deployment.maxReplicas = 4;
    const o = objectsOf(f);
    expect(o.get('Deployment')!.spec).not.toHaveProperty('replicas');
    expect(o.get('HorizontalPodAutoscaler')!.spec).toMatchObject({
      minReplicas: 2,
      maxReplicas: 4,
      scaleTargetRef: { kind: 'Deployment', name: o.get('Deployment')!.metadata.name },
    });
  });

  it('places a merged fleet with its first Gateway, owned by the members of that namespace it knows', () => {
    const fleet: Fleet = {
      ...fleetWithPorts([80]),
      name: 'merged:edge',
      gateways: [
        { namespace: 'a', name: 'one' },
        { namespace: 'a', name: 'two' },
        { namespace: 'b', name: 'three' },
      ],
    };
    const known: Record<string, string> = { 'a/one': 'u1', 'a/two': 'u2', 'b/three': 'u3' };
    const lookup = (ns: string, name: string) =>
      known[`${ns}/${name}`] ? { metadata: { uid: known[`${ns}/${name}`] } } : undefined;
    const p = placeFleet(fleet, lookup);
    expect(p).toEqual({
      namespace: 'a',
      owners: [
        expect.objectContaining({
          name: 'one',
          uid: 'u1',
          controller: false,
          blockOwnerDeletion: false,
        }),
        expect.objectContaining({ name: 'two', uid: 'u2', controller: false }),
      ],
    });
    delete known['a/one'];
    expect(placeFleet(fleet, lookup)).toMatchObject({ namespace: 'a', owners: [{ name: 'two' }] });
    delete known['a/two'];
    expect(placeFleet(fleet, lookup)).toHaveProperty('problem');
    const own = placeFleet(fleetWithPorts([80]), () => ({ metadata: { uid: 'u' } }));
    expect(own).toMatchObject({ owners: [{ controller: true }] });
  });
});
