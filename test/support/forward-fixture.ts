// One gateway process configured by the in-test control plane from Gateway
// API objects, for the forwarding tests: start it, change its configuration
// and wait until the gateway has applied the change, stop it.
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { freePort } from './backends.js';
import { ControlPlane, GatewayProcess } from './gateway-harness.js';
import { httpGet, type HttpResult } from './http.js';
import { gateway, gatewayClass, httpListener } from './k8s.js';

type Obj = Record<string, unknown>;

export const HOST = 'app.example.com';

/** Polls `check` until it returns a truthy value; throws after `timeoutMs`. */
export async function until<T>(check: () => T | Promise<T>, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export class ForwardFixture {
  readonly cp = new ControlPlane();
  gw!: GatewayProcess;
  port = 0;
  private static nodes = 0;
  readonly nodeId = `fwd-${process.pid}-${++ForwardFixture.nodes}`;

  /** `objects`: routes, Services and EndpointSlices; the GatewayClass and Gateway `gw` are added. */
  async start(objects: Obj[]): Promise<this> {
    this.port = await freePort();
    this.cp.publish(this.all(objects));
    await this.cp.start();
    this.gw = new GatewayProcess([
      '--xds',
      `127.0.0.1:${this.cp.port}`,
      '--fleet',
      'default/gw',
      '--node-id',
      this.nodeId,
    ]);
    await this.gw.ready();
    return this;
  }

  /** Publishes a new configuration and resolves once the gateway has applied it. */
  async update(objects: Obj[]): Promise<void> {
    this.cp.publish(this.all(objects));
    const want = this.cp.cache.get('default/gw')!.version;
    await until(
      () => this.cp.server.nodes.get(this.nodeId)?.appliedVersion === want,
      'the gateway to apply the new configuration',
    );
  }

  get(path: string, opts: Parameters<typeof httpGet>[3] = {}, host = HOST): Promise<HttpResult> {
    return httpGet(this.port, path, host, opts);
  }

  /**
   * Sends `head` (request line and headers, CRLF-separated, without the
   * final blank line; `Connection: close` is added) and `body` over a raw
   * socket and resolves with everything the gateway answers until it closes.
   */
  raw(head: string, body = ''): Promise<string> {
    return new Promise((resolve, reject) => {
      const s = connect(this.port, '127.0.0.1');
      const chunks: Buffer[] = [];
      s.on('data', (d: Buffer) => chunks.push(d));
      s.on('error', reject);
      s.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
      s.write(`${head}\r\nconnection: close\r\n\r\n${body}`);
    });
  }

  /** The gateway's resident set size and its peak, from /proc. */
  memory(): { rss: number; peak: number } {
    const status = readFileSync(`/proc/${this.gw.child.pid}/status`, 'utf8');
    const kb = (field: string) =>
      Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)![1]) * 1024;
    return { rss: kb('VmRSS'), peak: kb('VmHWM') };
  }

  async stop(): Promise<void> {
    await this.gw?.stop();
    await this.cp.close();
  }

  private all(objects: Obj[]): Obj[] {
    return [gatewayClass(), gateway('gw', [httpListener(this.port)]), ...objects];
  }
}
