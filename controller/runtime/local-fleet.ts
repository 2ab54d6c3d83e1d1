// Standalone mode's provisioner: one local gateway process per node group of
// the IR (a fleet, or one shard of it), each bound to its own loopback
// address so fleets with the same ports can run side by side, restarted with
// back-off when it dies, stopped (SIGTERM, drained) when its group goes.
// The address is the Gateway's status address in standalone mode.
import { spawn, type ChildProcess } from 'node:child_process';
import type { IR } from '../ir/types.js';

export interface LocalFleetOptions {
  /** Command that starts a gateway: argv[0] and the args before gatefleet's own flags. */
  command: string[];
  xdsAddress: string;
  /** First loopback address handed out; the next groups get the following ones. */
  firstAddress?: string;
  log: (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
  backoff?: { baseMs: number; maxMs: number };
  /** Where gateways' own output goes (JSON log lines); default: dropped. */
  output?: (nodeGroup: string, line: string) => void;
}

interface Instance {
  nodeGroup: string;
  fleet: string;
  address: string;
  child?: ChildProcess;
  restarts: number;
  timer?: NodeJS.Timeout;
  stopping: boolean;
  startedAt: number;
  adminPort?: number;
}

function nextIPv4(ip: string, n: number): string {
  const parts = ip.split('.').map(Number);
  let v = ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]! + n;
  const out: number[] = [];
  for (let i = 0; i < 4; i++) {
    out.unshift(v & 255);
    v = Math.floor(v / 256);
  }
  return out.join('.');
}

export class LocalFleet {
  private readonly instances = new Map<string, Instance>();
  private readonly addresses = new Map<string, string>();
  private nextIndex = 0;

  constructor(private readonly opts: LocalFleetOptions) {}

  /** The loopback address of each node group (stable for the life of the process). */
  addressOf(nodeGroup: string): string | undefined {
    return this.addresses.get(nodeGroup);
  }

  list(): {
    nodeGroup: string;
    fleet: string;
    address: string;
    pid?: number;
    restarts: number;
    adminPort?: number;
  }[] {
    return [...this.instances.values()]
      .sort((a, b) => (a.nodeGroup < b.nodeGroup ? -1 : 1))
      .map((i) => ({
        nodeGroup: i.nodeGroup,
        fleet: i.fleet,
        address: i.address,
        ...(i.child?.pid ? { pid: i.child.pid } : {}),
        restarts: i.restarts,
        ...(i.adminPort ? { adminPort: i.adminPort } : {}),
      }));
  }

  /** Starts a process for every new node group, stops those of groups that went away. */
  reconcile(ir: IR): void {
    const wanted = new Map<string, string>();
    for (const f of ir.fleets) for (const g of f.nodeGroups) wanted.set(g.name, f.name);
    for (const [group, fleet] of wanted) {
      if (this.instances.has(group)) continue;
      let address = this.addresses.get(group);
      if (!address) {
        address = nextIPv4(this.opts.firstAddress ?? '127.0.10.1', this.nextIndex++);
        this.addresses.set(group, address);
      }
      const inst: Instance = {
        nodeGroup: group,
        fleet,
        address,
        restarts: 0,
        stopping: false,
        startedAt: 0,
      };
      this.instances.set(group, inst);
      this.start(inst);
    }
    for (const [group, inst] of [...this.instances]) {
      if (wanted.has(group)) continue;
      this.instances.delete(group);
      void this.stopInstance(inst);
    }
  }

  private start(inst: Instance): void {
    const [cmd, ...pre] = this.opts.command;
    const args = [
      ...pre,
      'gateway',
      '--xds',
      this.opts.xdsAddress,
      '--fleet',
      inst.nodeGroup,
      '--node-id',
      `local/${inst.nodeGroup}`,
      '--bind-address',
      inst.address,
      '--admin',
      '127.0.0.1:0',
    ];
    inst.startedAt = Date.now();
    const child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    inst.child = child;
    let buf = '';
    const onLine = (line: string) => {
      if (line.includes('"gateway started"')) {
        try {
          inst.adminPort = (JSON.parse(line) as { adminPort?: number }).adminPort;
        } catch {
          // not JSON
        }
      }
      this.opts.output?.(inst.nodeGroup, line);
    };
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        onLine(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    });
    child.stderr!.on('data', (d: Buffer) =>
      this.opts.output?.(inst.nodeGroup, d.toString().trimEnd()),
    );
    this.opts.log('info', 'gateway process started', {
      nodeGroup: inst.nodeGroup,
      address: inst.address,
      pid: child.pid,
    });
    child.on('exit', (code, signal) => {
      inst.child = undefined;
      if (inst.stopping) return;
      // A process that ran a while restarts at once; one that keeps dying backs off.
      if (Date.now() - inst.startedAt > 30_000) inst.restarts = 0;
      const { baseMs, maxMs } = this.opts.backoff ?? { baseMs: 200, maxMs: 10_000 };
      const delay = Math.min(maxMs, baseMs * 2 ** inst.restarts);
      inst.restarts++;
      this.opts.log('warn', 'gateway process exited; restarting', {
        nodeGroup: inst.nodeGroup,
        code,
        signal,
        delayMs: delay,
      });
      inst.timer = setTimeout(() => {
        if (!inst.stopping) this.start(inst);
      }, delay);
    });
  }

  private stopInstance(inst: Instance): Promise<void> {
    inst.stopping = true;
    clearTimeout(inst.timer);
    const child = inst.child;
    if (!child || child.exitCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), 25_000);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }

  /** Kills one instance's process (tests and `gatefleet` operators use it to check restarts). */
  pidOf(nodeGroup: string): number | undefined {
    return this.instances.get(nodeGroup)?.child?.pid;
  }

  async stop(): Promise<void> {
    const all = [...this.instances.values()];
    this.instances.clear();
    await Promise.all(all.map((i) => this.stopInstance(i)));
  }
}
