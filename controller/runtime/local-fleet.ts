// Standalone mode's provisioner: one local gateway process per node group of
// the IR (a fleet, or one shard of it), each bound to its own loopback
// address so fleets with the same ports run side by side; restarted with
// back-off when it dies; stopped (SIGTERM, drained) when its group goes.
//
// Gateways outlive the controller: they run detached, log to files, and keep
// serving their last configuration if the controller dies. A controller that
// starts again adopts the gateways still running (pid and address files in
// the state directory) instead of starting duplicates; they reconnect to it
// and resynchronize. The address is the Gateway's status address.
import { spawn } from 'node:child_process';
import {
  mkdirSync,
  openSync,
  closeSync,
  readFileSync,
  rmSync,
  writeFileSync,
  existsSync,
} from 'node:fs';
import { join } from 'node:path';
import type { IR } from '../ir/types.js';

export interface LocalFleetOptions {
  /** Command that starts a gateway: argv[0] and the args before gatefleet's own flags. */
  command: string[];
  xdsAddress: string;
  /** Where pid, address and log files live; one directory per `gatefleet run`. */
  stateDir: string;
  /** First loopback address handed out; the next groups get the following ones. */
  firstAddress?: string;
  log: (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
  backoff?: { baseMs: number; maxMs: number };
}

interface Instance {
  nodeGroup: string;
  fleet: string;
  address: string;
  pid?: number;
  restarts: number;
  timer?: NodeJS.Timeout;
  stopping: boolean;
  startedAt: number;
}

function nextIPv4(ip: string, n: number): string {
  const p = ip.split('.').map(Number);
  let v = p[0]! * 2 ** 24 + p[1]! * 2 ** 16 + p[2]! * 2 ** 8 + p[3]! + n;
  const out: number[] = [];
  for (let i = 0; i < 4; i++) {
    out.unshift(v % 256);
    v = Math.floor(v / 256);
  }
  return out.join('.');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A file name for a node group (`infra/edge#dmz` → `infra_edge_dmz`). */
function fileName(group: string): string {
  return group.replace(/[^A-Za-z0-9.-]/g, '_');
}

export class LocalFleet {
  private readonly instances = new Map<string, Instance>();
  private readonly addresses: Record<string, string>;
  private readonly watch: NodeJS.Timeout;

  constructor(private readonly opts: LocalFleetOptions) {
    mkdirSync(opts.stateDir, { recursive: true });
    const saved = join(opts.stateDir, 'addresses.json');
    this.addresses = existsSync(saved)
      ? (JSON.parse(readFileSync(saved, 'utf8')) as Record<string, string>)
      : {};
    // Processes are detached, not children: liveness is polled.
    this.watch = setInterval(() => this.checkLiveness(), 500);
    this.watch.unref();
  }

  /** The loopback address of each node group (stable across controller restarts). */
  addressOf(nodeGroup: string): string | undefined {
    return this.addresses[nodeGroup];
  }

  list(): {
    nodeGroup: string;
    fleet: string;
    address: string;
    pid?: number;
    restarts: number;
    log: string;
  }[] {
    return [...this.instances.values()]
      .sort((a, b) => (a.nodeGroup < b.nodeGroup ? -1 : 1))
      .map((i) => ({
        nodeGroup: i.nodeGroup,
        fleet: i.fleet,
        address: i.address,
        ...(i.pid ? { pid: i.pid } : {}),
        restarts: i.restarts,
        log: this.file(i.nodeGroup, 'log'),
      }));
  }

  private file(group: string, ext: string): string {
    return join(this.opts.stateDir, `${fileName(group)}.${ext}`);
  }

  private allocate(group: string): string {
    let a = this.addresses[group];
    if (!a) {
      const used = new Set(Object.values(this.addresses));
      for (let i = 0; ; i++) {
        a = nextIPv4(this.opts.firstAddress ?? '127.0.10.1', i);
        if (!used.has(a)) break;
      }
      this.addresses[group] = a;
      writeFileSync(
        join(this.opts.stateDir, 'addresses.json'),
        `${JSON.stringify(this.addresses, null, 2)}\n`,
      );
    }
    return a;
  }

  /** Starts (or adopts) a process for every node group, stops those of groups that went away. */
  reconcile(ir: IR): void {
    const wanted = new Map<string, string>();
    for (const f of ir.fleets) for (const g of f.nodeGroups) wanted.set(g.name, f.name);
    for (const [group, fleet] of wanted) {
      if (this.instances.has(group)) continue;
      const inst: Instance = {
        nodeGroup: group,
        fleet,
        address: this.allocate(group),
        restarts: 0,
        stopping: false,
        startedAt: Date.now(),
      };
      this.instances.set(group, inst);
      const pid = this.adoptable(group);
      if (pid) {
        inst.pid = pid;
        this.opts.log('info', 'gateway process adopted', {
          nodeGroup: group,
          address: inst.address,
          pid,
        });
      } else this.start(inst);
    }
    for (const [group, inst] of [...this.instances]) {
      if (wanted.has(group)) continue;
      this.instances.delete(group);
      void this.stopInstance(inst);
    }
  }

  /** A gateway of this group left running by a previous controller. */
  private adoptable(group: string): number | undefined {
    try {
      const pid = Number(readFileSync(this.file(group, 'pid'), 'utf8'));
      if (!Number.isInteger(pid) || !alive(pid)) return undefined;
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const i = cmdline.indexOf('--fleet');
      return i >= 0 && cmdline[i + 1] === group ? pid : undefined;
    } catch {
      return undefined;
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
    const out = openSync(this.file(inst.nodeGroup, 'log'), 'a');
    const child = spawn(cmd!, args, { stdio: ['ignore', out, out], detached: true });
    closeSync(out);
    child.unref();
    child.on('error', (e) =>
      this.opts.log('error', 'cannot start a gateway process', {
        nodeGroup: inst.nodeGroup,
        error: e.message,
      }),
    );
    inst.pid = child.pid;
    if (child.pid) writeFileSync(this.file(inst.nodeGroup, 'pid'), String(child.pid));
    this.opts.log('info', 'gateway process started', {
      nodeGroup: inst.nodeGroup,
      address: inst.address,
      pid: child.pid,
    });
  }

  private checkLiveness(): void {
    for (const inst of this.instances.values()) {
      if (inst.stopping || inst.timer || (inst.pid && alive(inst.pid))) continue;
      // A process that ran a while restarts at once; one that keeps dying backs off.
      if (Date.now() - inst.startedAt > 30_000) inst.restarts = 0;
      const { baseMs, maxMs } = this.opts.backoff ?? { baseMs: 200, maxMs: 10_000 };
      const delay = Math.min(maxMs, baseMs * 2 ** inst.restarts);
      inst.restarts++;
      this.opts.log('warn', 'gateway process exited; restarting', {
        nodeGroup: inst.nodeGroup,
        log: this.file(inst.nodeGroup, 'log'),
        delayMs: delay,
      });
      inst.pid = undefined;
      inst.timer = setTimeout(() => {
        inst.timer = undefined;
        if (!inst.stopping) this.start(inst);
      }, delay);
    }
  }

  private async stopInstance(inst: Instance): Promise<void> {
    inst.stopping = true;
    clearTimeout(inst.timer);
    rmSync(this.file(inst.nodeGroup, 'pid'), { force: true });
    const pid = inst.pid;
    if (!pid || !alive(pid)) return;
    process.kill(pid, 'SIGTERM');
    const until = Date.now() + 25_000;
    while (alive(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  }

  /** Stops every gateway (the controller is shutting down on purpose). */
  async stop(): Promise<void> {
    clearInterval(this.watch);
    const all = [...this.instances.values()];
    this.instances.clear();
    await Promise.all(all.map((i) => this.stopInstance(i)));
  }

  /** Leaves the gateways running (the controller is going away but they keep serving). */
  detach(): void {
    clearInterval(this.watch);
    for (const i of this.instances.values()) clearTimeout(i.timer);
    this.instances.clear();
  }
}
