// End-to-end harness: gatefleet's own xDS server in the test process, fed by
// the real translator, and real `gatefleet gateway` processes configured by it.
import { spawn, type ChildProcess } from 'node:child_process';
import { inputsOf, translate } from '../../controller/translator/index.js';
import { SnapshotCache } from '../../xds/cache.js';
import { publishIR } from '../../xds/publish.js';
import { XdsServer } from '../../xds/server/ads-server.js';
import { CLI, ROOT } from './cli.js';

export class ControlPlane {
  readonly cache = new SnapshotCache();
  server!: XdsServer;
  port = 0;

  async start(objects?: Record<string, unknown>[]): Promise<this> {
    if (objects) this.publish(objects);
    this.server = new XdsServer({ cache: this.cache });
    this.port = await this.server.listen('127.0.0.1:0');
    return this;
  }

  publish(objects: Record<string, unknown>[]): string[] {
    const { ir } = translate(inputsOf(objects), { now: '2026-01-01T00:00:00Z' });
    const r = publishIR(ir, this.cache);
    if (r.rejected.length > 0) throw new Error(JSON.stringify(r.rejected));
    return r.changed;
  }

  close(): Promise<void> {
    return this.server.close();
  }
}

export class GatewayProcess {
  readonly child: ChildProcess;
  adminPort?: number;
  readonly logs: Record<string, unknown>[] = [];
  private readonly started: Promise<void>;

  constructor(args: string[], env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [CLI, 'gateway', '--admin', '127.0.0.1:0', ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buf = '';
    this.started = new Promise((resolve, reject) => {
      this.child.stdout!.on('data', (d: Buffer) => {
        buf += d.toString();
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          try {
            const rec = JSON.parse(line) as Record<string, unknown>;
            this.logs.push(rec);
            if (rec.msg === 'gateway started') {
              this.adminPort = rec.adminPort as number;
              resolve();
            }
          } catch {
            // not a log line
          }
        }
      });
      let err = '';
      this.child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      this.child.once('exit', (code) => reject(new Error(`gateway exited with ${code}: ${err}`)));
    });
  }

  async admin(path: string): Promise<{ status: number; body: string }> {
    await this.started;
    const r = await fetch(`http://127.0.0.1:${this.adminPort}${path}`);
    return { status: r.status, body: await r.text() };
  }

  /** Resolves once /ready answers 200. */
  async ready(timeoutMs = 10_000): Promise<void> {
    await this.started;
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if ((await this.admin('/ready')).status === 200) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('gateway not ready in time');
  }

  stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode !== null) return Promise.resolve(this.child.exitCode);
    return new Promise((resolve) => {
      this.child.once('exit', (code) => resolve(code));
      this.child.kill(signal);
    });
  }
}

export { ROOT };
