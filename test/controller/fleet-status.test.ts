// Gateway Programmed reflects what the fleet applied.
import { describe, expect, it } from 'vitest';
import { fleetProgrammed, overlayFleetStatus } from '../../controller/status/fleet-status.js';
import type { StatusUpdate } from '../../controller/translator/index.js';

const groups = [
  { name: 'ns/gw#dmz', shard: 'dmz' },
  { name: 'ns/gw#internal', shard: 'internal' },
];
const versions = new Map([
  ['ns/gw#dmz', 'v-dmz'],
  ['ns/gw#internal', 'v-int'],
]);

describe('fleet Programmed', () => {
  it('is True only when every instance of every shard applied its current version', () => {
    const c = fleetProgrammed(groups, {
      versions,
      nodes: [
        { id: 'a', nodeGroup: 'ns/gw#dmz', appliedVersion: 'v-dmz' },
        { id: 'b', nodeGroup: 'ns/gw#internal', appliedVersion: 'v-int' },
        { id: 'c', nodeGroup: 'ns/gw#internal', appliedVersion: 'v-int' },
      ],
    });
    expect(c).toMatchObject({
      status: 'True',
      reason: 'Programmed',
      message: '3 gateway instances applied the current configuration',
    });
  });

  it('is Pending while a shard has no instance or one is behind', () => {
    expect(
      fleetProgrammed(groups, {
        versions,
        nodes: [{ id: 'a', nodeGroup: 'ns/gw#dmz', appliedVersion: 'v-dmz' }],
      }),
    ).toMatchObject({
      status: 'False',
      reason: 'Pending',
      message: 'waiting for the fleet: shard internal: no instance connected',
    });
    expect(
      fleetProgrammed(groups, {
        versions,
        nodes: [
          { id: 'a', nodeGroup: 'ns/gw#dmz', appliedVersion: 'v-dmz' },
          { id: 'b', nodeGroup: 'ns/gw#internal', appliedVersion: 'old' },
          { id: 'c', nodeGroup: 'ns/gw#internal' },
        ],
      }).message,
    ).toBe('waiting for the fleet: shard internal: 0/2 instances applied version v-int');
  });

  it('is Invalid with the instance’s own error when one refused the configuration', () => {
    const c = fleetProgrammed(groups, {
      versions,
      nodes: [
        {
          id: 'a',
          nodeGroup: 'ns/gw#dmz',
          lastNack: {
            version: 'v-dmz',
            message: 'Listener http-80: cannot listen on 0.0.0.0 port 80: EACCES',
          },
        },
        { id: 'b', nodeGroup: 'ns/gw#internal', appliedVersion: 'v-int' },
      ],
    });
    expect(c).toMatchObject({
      status: 'False',
      reason: 'Invalid',
      message:
        'gateway a (shard dmz) rejected the configuration: Listener http-80: cannot listen on 0.0.0.0 port 80: EACCES',
    });
  });

  it('replaces only the Programmed condition of Gateways whose configuration was generated, keeping transition times', () => {
    const gw = (programmed: 'True' | 'False'): StatusUpdate => ({
      kind: 'Gateway',
      namespace: 'ns',
      name: 'gw',
      status: {
        conditions: [
          {
            type: 'Accepted',
            status: 'True',
            reason: 'Accepted',
            message: '',
            observedGeneration: 4,
            lastTransitionTime: 't0',
          },
          {
            type: 'Programmed',
            status: programmed,
            reason: 'Programmed',
            message: '',
            observedGeneration: 4,
            lastTransitionTime: 't1',
          },
        ],
      },
    });
    const ir = {
      fleets: [{ gateways: [{ namespace: 'ns', name: 'gw' }], nodeGroups: groups }],
    } as never;
    const obs = { versions, nodes: [] };
    const previous = {
      conditions: [
        {
          type: 'Programmed',
          status: 'False',
          reason: 'Pending',
          message: 'x',
          observedGeneration: 4,
          lastTransitionTime: 't-pending',
        },
      ],
    };
    const [out] = overlayFleetStatus(
      [gw('True')],
      ir,
      obs,
      () => previous as never,
      () => 4,
      { now: 'now' },
    );
    const programmed = (
      out!.status as {
        conditions: { type: string; status: string; reason: string; lastTransitionTime: string }[];
      }
    ).conditions;
    expect(programmed.map((c) => [c.type, c.status, c.reason, c.lastTransitionTime])).toEqual([
      ['Accepted', 'True', 'Accepted', 't0'],
      ['Programmed', 'False', 'Pending', 't-pending'],
    ]);
    // A Gateway the translator could not program keeps the translator's verdict.
    expect(
      overlayFleetStatus(
        [gw('False')],
        ir,
        obs,
        () => undefined,
        () => 4,
        { now: 'now' },
      )[0],
    ).toEqual(gw('False'));
  });
});
