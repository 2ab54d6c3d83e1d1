// One gateway fleet for an end-to-end test: gatefleet's xDS server in the
// test process, fed Gateway API objects through the real translator, and a
// real `gatefleet gateway` process serving what it publishes. Ready means the
// gateway applied its first complete configuration, so every listener is
// open when `startFleet` resolves.
import { ControlPlane, GatewayProcess } from './gateway-harness.js';

export interface Fleet {
  cp: ControlPlane;
  gw: GatewayProcess;
  close: () => Promise<void>;
}

let sequence = 0;

export async function startFleet(
  objects: Record<string, unknown>[],
  fleet = 'default/gw',
): Promise<Fleet> {
  const cp = new ControlPlane();
  cp.publish(objects);
  await cp.start();
  const nodeId = `gw-${process.pid}-${++sequence}`;
  const gw = new GatewayProcess([
    '--xds',
    `127.0.0.1:${cp.port}`,
    '--fleet',
    fleet,
    '--node-id',
    nodeId,
  ]);
  try {
    await gw.ready(20_000);
  } catch (e) {
    await gw.stop();
    await cp.close();
    throw e;
  }
  return {
    cp,
    gw,
    close: async () => {
      await gw.stop();
      await cp.close();
    },
  };
}
