// Gateway addresses from the provisioner's Services: per Service type, per
// fleet over its node groups, and never from a Service that is not this
// installation's.
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../controller/providers/kube/kinds.js';
import { AddressBook, serviceAddresses } from '../../controller/provisioner/addresses.js';
import { Annotation, Label, fleetLabel } from '../../controller/provisioner/names.js';

function svc(
  name: string,
  fleet: string,
  nodeGroup: string,
  spec: Record<string, unknown>,
  status: Record<string, unknown> = {},
  controllerNamespace = 'gatefleet-system',
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace: 'infra',
      labels: {
        [Label.ManagedBy]: 'gatefleet',
        [Label.ControllerNamespace]: controllerNamespace,
        [Label.Fleet]: fleetLabel(fleet),
      },
      annotations: { [Annotation.NodeGroup]: nodeGroup },
    },
    spec,
    status,
  };
}

describe('addresses', () => {
  it('per Service type', () => {
    const lb = (ingress: unknown[]) =>
      serviceAddresses(
        svc(
          's',
          'f',
          'f',
          { type: 'LoadBalancer', clusterIP: '10.96.0.9' },
          { loadBalancer: { ingress } },
        ),
      );
    expect(lb([])).toEqual([]);
    expect(
      lb([
        { ip: '192.0.2.1' },
        { hostname: 'lb.example.com' },
        { ip: '2001:db8::1', hostname: 'x' },
      ]),
    ).toEqual([
      { type: 'IPAddress', value: '192.0.2.1' },
      { type: 'Hostname', value: 'lb.example.com' },
      { type: 'IPAddress', value: '2001:db8::1' },
    ]);
    expect(
      serviceAddresses(
        svc('s', 'f', 'f', {
          type: 'ClusterIP',
          clusterIP: '10.96.0.9',
          clusterIPs: ['10.96.0.9', 'fd00::9'],
        }),
      ),
    ).toEqual([
      { type: 'IPAddress', value: '10.96.0.9' },
      { type: 'IPAddress', value: 'fd00::9' },
    ]);
    expect(
      serviceAddresses(svc('s', 'f', 'f', { type: 'NodePort', clusterIP: '10.96.0.7' })),
    ).toEqual([{ type: 'IPAddress', value: '10.96.0.7' }]);
    expect(serviceAddresses(svc('s', 'f', 'f', { type: 'ClusterIP', clusterIP: 'None' }))).toEqual(
      [],
    );
  });

  it('a fleet reports every node group, in node group order, once; forgets deleted and foreign Services', () => {
    const book = new AddressBook('gatefleet-system');
    const ip = (v: string) => ({ type: 'IPAddress', value: v });
    book.update(
      svc('z', 'infra/edge', 'infra/edge#b', { type: 'ClusterIP', clusterIP: '10.0.0.2' }),
    );
    book.update(
      svc('a', 'infra/edge', 'infra/edge#a', { type: 'ClusterIP', clusterIP: '10.0.0.1' }),
    );
    book.update(
      svc('dup', 'infra/edge', 'infra/edge#c', { type: 'ClusterIP', clusterIP: '10.0.0.1' }),
    );
    book.update(
      svc('other', 'infra/other', 'infra/other', { type: 'ClusterIP', clusterIP: '10.0.0.3' }),
    );
    book.update(
      svc(
        'foreign',
        'infra/edge',
        'infra/edge#0',
        { type: 'ClusterIP', clusterIP: '10.0.0.4' },
        {},
        'another-install',
      ),
    );
    expect(book.addressesOf('infra/edge')).toEqual([ip('10.0.0.1'), ip('10.0.0.2')]);
    expect(book.addressesOf('infra/other')).toEqual([ip('10.0.0.3')]);
    expect(book.addressesOf('infra/none')).toEqual([]);
    // An update replaces; a deletion forgets.
    book.update(
      svc(
        'a',
        'infra/edge',
        'infra/edge#a',
        { type: 'LoadBalancer' },
        { loadBalancer: { ingress: [{ ip: '192.0.2.5' }] } },
      ),
    );
    expect(book.addressesOf('infra/edge')).toEqual([
      ip('192.0.2.5'),
      ip('10.0.0.2'),
      ip('10.0.0.1'),
    ]);
    book.update(svc('z', 'infra/edge', 'infra/edge#b', {}), true);
    book.update(svc('dup', 'infra/edge', 'infra/edge#c', {}), true);
    expect(book.addressesOf('infra/edge')).toEqual([ip('192.0.2.5')]);
  });
});
