// End-to-end harness: gatefleet's own xDS server in the test process, fed by
// the real translator, and real `gatefleet gateway` processes configured by it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import type { ServerCredentials } from '@grpc/grpc-js';
import { inputsOf, translate } from '../../controller/translator/index.js';
import { SnapshotCache } from '../../xds/cache.js';
import { publishIR } from '../../xds/publish.js';
import { XdsServer } from '../../xds/server/ads-server.js';
import { CLI, ROOT } from './cli.js';

export interface ControlPlaneOptions {
  /** TLS (or mTLS) for the xDS server; plaintext when absent. */
  credentials?: ServerCredentials;
}

export class ControlPlane {
  cache = new SnapshotCache();
  server!: XdsServer;
  port = 0;

  constructor(private readonly opts: ControlPlaneOptions = {}) {}

  /** Publishes `objects` (if given) and serves on `port` (0: any free port). */
  async start(objects?: Record<string, unknown>[], port = 0): Promise<this> {
    if (objects) this.publish(objects);
    this.server = new XdsServer({
      cache: this.cache,
      ...(this.opts.credentials ? { credentials: this.opts.credentials } : {}),
    });
    this.port = await this.server.listen(`127.0.0.1:${port}`);
    return this;
  }

  publish(objects: Record<string, unknown>[]): string[] {
    const { ir } = translate(inputsOf(objects), { now: '2026-01-01T00:00:00Z' });
    const r = publishIR(ir, this.cache);
    if (r.rejected.length > 0) throw new Error(JSON.stringify(r.rejected));
    return r.changed;
  }

  /**
   * A controller restart: the server is closed and a new one, with an empty
   * cache filled again from `objects` (as a restarted controller does), serves
   * on the same port. Versions are content hashes, so an unchanged
   * configuration gets the same versions.
   */
  async restart(objects: Record<string, unknown>[]): Promise<void> {
    this.cache = new SnapshotCache();
    await this.start(objects, this.port);
  }

  close(): Promise<void> {
    return this.server.close();
  }
}

export interface LogRecord extends Record<string, unknown> {
  msg?: string;
}

export interface GatewayProcessOptions {
  /** Pass `--admin 127.0.0.1:0` (default true; false to test GATEFLEET_ADMIN). */
  admin?: boolean;
}

export class GatewayProcess {
  readonly child: ChildProcess;
  adminPort?: number;
  readonly logs: LogRecord[] = [];
  stderr = '';
  /** Resolves with the exit code (null when killed by a signal) and signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly started: Promise<void>;
  private readonly logWaiters = new Set<() => void>();

  constructor(args: string[], env: Record<string, string> = {}, opts: GatewayProcessOptions = {}) {
    const admin = opts.admin === false ? [] : ['--admin', '127.0.0.1:0'];
    this.child = spawn(process.execPath, [CLI, 'gateway', ...admin, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    let buf = '';
    this.started = new Promise((resolve, reject) => {
      this.child.stdout!.on('data', (d: Buffer) => {
        buf += d.toString();
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          try {
            const rec = JSON.parse(line) as LogRecord;
            this.logs.push(rec);
            for (const w of this.logWaiters) w();
            if (rec.msg === 'gateway started' && typeof rec.adminPort === 'number') {
              this.adminPort = rec.adminPort;
              resolve();
            }
          } catch {
            // not a log line
          }
        }
      });
      void this.exited.then(({ code }) =>
        reject(new Error(`gateway exited with ${code}: ${this.stderr}`)),
      );
    });
    // Tests that expect an early exit await `exited`, not `started`.
    this.started.catch(() => {});
  }

  get pid(): number {
    return this.child.pid!;
  }

  whenStarted(): Promise<void> {
    return this.started;
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

  /** Resolves with the first log record (past or future) that `match` accepts. */
  waitForLog(match: (r: LogRecord) => boolean, timeoutMs = 10_000): Promise<LogRecord> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const hit = this.logs.find(match);
        if (!hit) return false;
        this.logWaiters.delete(check);
        clearTimeout(timer);
        resolve(hit);
        return true;
      };
      const timer = setTimeout(() => {
        this.logWaiters.delete(check);
        reject(new Error(`no matching log line in ${timeoutMs} ms`));
      }, timeoutMs);
      if (!check()) this.logWaiters.add(check);
    });
  }

  stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null)
      return Promise.resolve(this.child.exitCode);
    this.child.kill(signal);
    return this.exited.then(({ code }) => code);
  }
}

/** Runs `gatefleet gateway` to completion (for usage errors), with extra environment. */
export function runGatewayCli(
  args: string[],
  env: Record<string, string> = {},
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'gateway', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Polls `check` until it returns a truthy value or `timeoutMs` passes. */
export async function eventually<T>(
  check: () => T | Promise<T>,
  what: string,
  timeoutMs = 10_000,
  intervalMs = 20,
): Promise<NonNullable<T>> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > until)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export { ROOT };
