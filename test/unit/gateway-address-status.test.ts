// Requested Gateway addresses (spec.addresses) against what the fleet's
// Services got: AddressNotUsable when one cannot be had, AddressNotAssigned
// while none is assigned yet; the decision replaces Programmed=True and
// leaves every other status alone.
import { describe, expect, it } from 'vitest';
import type { Fleet, IR } from '../../controller/ir/types.js';
import { requestedAddressProblem } from '../../controller/provisioner/addresses.js';
import { overlayAddressStatus } from '../../controller/status/address-status.js';
import type { StatusUpdate } from '../../controller/translator/index.js';

const ip = (value: string) => ({ type: 'IPAddress' as const, value });

describe('requestedAddressProblem', () => {
  it('nothing requested: no problem, whatever was assigned', () => {
    expect(requestedAddressProblem([], [])).toBeUndefined();
    expect(requestedAddressProblem([], [ip('10.0.0.1')])).toBeUndefined();
  });

  it('the requested address assigned: no problem (IPv6 in any spelling)', () => {
    expect(requestedAddressProblem([ip('10.0.0.1')], [ip('10.0.0.1')])).toBeUndefined();
    expect(
      requestedAddressProblem([ip('2001:db8:0::1')], [ip('2001:DB8::1'), ip('10.0.0.9')]),
    ).toBeUndefined();
  });

  it('another address assigned: AddressNotUsable naming both', () => {
    const p = requestedAddressProblem([ip('192.0.2.1')], [ip('10.244.255.10')]);
    expect(p?.reason).toBe('AddressNotUsable');
    expect(p?.message).toContain(
      '192.0.2.1 was requested but the infrastructure assigned 10.244.255.10',
    );
  });

  it('several values: AddressNotUsable for all but the first, before anything is assigned', () => {
    const p = requestedAddressProblem([ip('192.0.2.1'), ip(''), ip('192.0.2.2')], []);
    expect(p?.reason).toBe('AddressNotUsable');
    expect(p?.message).toMatch(/^192\.0\.2\.2 cannot be assigned: .*\(192\.0\.2\.1\)/);
  });

  it('nothing assigned yet: AddressNotAssigned, for a value or an empty one', () => {
    expect(requestedAddressProblem([ip('192.0.2.1')], [])).toEqual({
      reason: 'AddressNotAssigned',
      message: "waiting for the infrastructure to assign 192.0.2.1 to the Gateway's Service",
    });
    expect(requestedAddressProblem([ip('')], [])?.reason).toBe('AddressNotAssigned');
    expect(requestedAddressProblem([ip('')], [ip('10.0.0.3')])).toBeUndefined();
  });
});

describe('overlayAddressStatus', () => {
  const fleet = (name: string, gw: string): Fleet =>
    ({
      name,
      gateways: [{ namespace: 'infra', name: gw }],
      infrastructure: { labels: {}, annotations: {}, addresses: [ip('192.0.2.1')] },
    }) as unknown as Fleet;
  const ir: IR = { fleets: [fleet('infra/a', 'a'), fleet('infra/b', 'b')] };
  const gateway = (name: string, programmed: 'True' | 'False'): StatusUpdate =>
    ({
      kind: 'Gateway',
      namespace: 'infra',
      name,
      status: {
        conditions: [
          {
            type: 'Accepted',
            status: 'True',
            reason: 'Accepted',
            message: '',
            observedGeneration: 2,
            lastTransitionTime: 't0',
          },
          {
            type: 'Programmed',
            status: programmed,
            reason: programmed === 'True' ? 'Programmed' : 'Invalid',
            message: '',
            observedGeneration: 2,
            lastTransitionTime: 't0',
          },
        ],
      },
    }) as unknown as StatusUpdate;

  it('replaces Programmed=True of a fleet with a problem, and only that', () => {
    const out = overlayAddressStatus(
      [gateway('a', 'True'), gateway('b', 'True')],
      ir,
      (f) => (f.name === 'infra/a' ? { reason: 'AddressNotUsable', message: 'no' } : undefined),
      () => undefined,
      () => 2,
      { now: 't1' },
    );
    const conds = (i: number) =>
      (out[i]!.status as { conditions: Record<string, unknown>[] }).conditions;
    expect(conds(0)[0]).toMatchObject({ type: 'Accepted', status: 'True' });
    expect(conds(0)[1]).toMatchObject({
      type: 'Programmed',
      status: 'False',
      reason: 'AddressNotUsable',
      message: 'no',
      observedGeneration: 2,
      lastTransitionTime: 't1',
    });
    expect(out[1]).toEqual(gateway('b', 'True'));
  });

  it('leaves a Gateway the translator did not program alone', () => {
    const s = gateway('a', 'False');
    const out = overlayAddressStatus(
      [s],
      ir,
      () => ({ reason: 'AddressNotUsable', message: 'no' }),
      () => undefined,
      () => 2,
      { now: 't1' },
    );
    expect(out[0]).toEqual(s);
  });
});
