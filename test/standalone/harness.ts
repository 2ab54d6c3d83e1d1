// Runs the real `gatefleet run` CLI as a process on a temporary directory.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { CLI, ROOT } from '../support/cli.js';
import { eventually } from '../support/gateway-harness.js';

export interface FleetView {
  nodeGroups: {
    name: string;
    version: string;
    address?: string;
    process?: { pid?: number };
    nodes: {
      id: string;
      appliedVersion?: string;
      types: Record<string, { lastNack?: { message: string } }>;
    }[];
  }[];
}

export class StandaloneProcess {
  child!: ChildProcess;
  readonly logs: Record<string, unknown>[] = [];
  adminPort = 0;

  constructor(
    readonly dir: string,
    readonly args: { xdsPort: number; adminPort: number; firstAddress: string; stateDir: string },
  ) {}

  async start(): Promise<this> {
    this.child = spawn(
      process.execPath,
      [
        CLI,
        'run',
        '--config',
        this.dir,
        '--xds',
        `127.0.0.1:${this.args.xdsPort}`,
        '--admin',
        `127.0.0.1:${this.args.adminPort}`,
        '--first-address',
        this.args.firstAddress,
        '--state-dir',
        this.args.stateDir,
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let buf = '';
    this.child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        try {
          this.logs.push(JSON.parse(buf.slice(0, i)) as Record<string, unknown>);
        } catch {
          // not a log line
        }
        buf = buf.slice(i + 1);
      }
    });
    this.adminPort = this.args.adminPort;
    await eventually(
      async () => (await fetch(`http://127.0.0.1:${this.adminPort}/ready`)).ok,
      'the controller to be ready',
      20_000,
    );
    return this;
  }

  async fleet(): Promise<FleetView> {
    return (await fetch(`http://127.0.0.1:${this.adminPort}/fleet`)).json() as Promise<FleetView>;
  }

  async status(): Promise<{
    resources: {
      kind: string;
      name: string;
      namespace?: string;
      status: Record<string, unknown>;
    }[];
    diagnostics: { code: string; file?: string; line?: number; message: string }[];
  }> {
    return (await fetch(`http://127.0.0.1:${this.adminPort}/status`)).json() as never;
  }

  /** Resolves with node group → address once every group's gateways applied its version. */
  async applied(groups: number, timeoutMs = 30_000): Promise<Map<string, string>> {
    return eventually(
      async () => {
        const f = await this.fleet();
        const ok =
          f.nodeGroups.length === groups &&
          f.nodeGroups.every(
            (g) => g.nodes.length > 0 && g.nodes.every((n) => n.appliedVersion === g.version),
          );
        return ok ? new Map(f.nodeGroups.map((g) => [g.name, g.address!])) : undefined;
      },
      `${groups} node groups applied`,
      timeoutMs,
    );
  }

  kill(signal: NodeJS.Signals): Promise<number | null> {
    if (this.child.exitCode !== null) return Promise.resolve(this.child.exitCode);
    return new Promise((resolve) => {
      this.child.once('exit', (code) => resolve(code));
      this.child.kill(signal);
    });
  }
}

export function tempConfigDir(prefix: string): {
  dir: string;
  write: (file: string, objs: Record<string, unknown>[]) => void;
  remove: (file: string) => void;
} {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    write: (file, objs) =>
      writeFileSync(join(dir, file), objs.map((o) => stringify(o)).join('---\n')),
    remove: (file) => rmSync(join(dir, file), { force: true }),
  };
}
