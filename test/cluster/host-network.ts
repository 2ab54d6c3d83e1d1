// The local cluster's network, on this machine's own network namespace: a
// bridge (gf0, 10.244.0.1/16) that every pod's veth joins, one network
// namespace per pod (gfp-<uid prefix>) with its IP and a default route via the
// bridge, and /32 addresses on the bridge for Service cluster IPs and load
// balancer IPs, which the node agent's proxy listens on. Every name carries a
// gf prefix so cleanup() finds what a crashed run left behind.
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export const BRIDGE = 'gf0';
export const BRIDGE_IP = '10.244.0.1';
const BRIDGE_MAC = '02:67:66:00:00:01';
export const POD_PREFIX_LEN = 16;
/** Pods get 10.244.1.1 – 10.244.254.254; 10.244.255.0/24 is for load balancers. */
export const LB_RANGE = { first: '10.244.255.10', last: '10.244.255.250' };
export const NETNS_PREFIX = 'gfp-';
const ETC_NETNS = '/etc/netns';

export async function ip(...args: string[]): Promise<string> {
  try {
    const { stdout } = await exec('ip', args, { maxBuffer: 16 << 20 });
    return stdout;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`ip ${args.join(' ')}: ${err.stderr?.trim() || err.message}`);
  }
}

async function ipQuiet(...args: string[]): Promise<void> {
  await ip(...args).catch(() => undefined);
}

export function ipToInt(a: string): number {
  return a.split('.').reduce((n, p) => n * 256 + Number(p), 0);
}

export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}

/** Creates the bridge (idempotent). */
export async function setupBridge(): Promise<void> {
  const links = await ip('-o', 'link', 'show');
  if (!new RegExp(`^\\d+: ${BRIDGE}[:@]`, 'm').test(links)) {
    // A fixed MAC: a bridge otherwise takes the lowest MAC of its ports, which changes as pods
    // come and go, and every pod's ARP entry for the gateway would point nowhere for a minute.
    await ip('link', 'add', BRIDGE, 'address', BRIDGE_MAC, 'type', 'bridge');
  }
  await ipQuiet('addr', 'add', `${BRIDGE_IP}/${POD_PREFIX_LEN}`, 'dev', BRIDGE);
  await ip('link', 'set', BRIDGE, 'up');
}

/** Adds a /32 on the bridge (a Service or load-balancer address the proxy listens on). */
export async function addAddress(addr: string): Promise<void> {
  await ipQuiet('addr', 'add', `${addr}/32`, 'dev', BRIDGE);
}

export async function removeAddress(addr: string): Promise<void> {
  await ipQuiet('addr', 'del', `${addr}/32`, 'dev', BRIDGE);
}

/** Hands out pod IPs, lowest free first. */
export class PodIpPool {
  private readonly used = new Set<number>();
  private readonly first = ipToInt('10.244.1.1');
  private readonly last = ipToInt('10.244.254.254');

  allocate(): string {
    for (let n = this.first; n <= this.last; n++) {
      if ((n & 255) === 0 || (n & 255) === 255 || this.used.has(n)) continue;
      this.used.add(n);
      return intToIp(n);
    }
    throw new Error('pod CIDR exhausted');
  }

  release(addr: string): void {
    this.used.delete(ipToInt(addr));
  }
}

export function netnsName(uid: string): string {
  return NETNS_PREFIX + uid.replace(/-/g, '').slice(0, 10);
}

/** A pod's network namespace with eth0 on the bridge, its IP, lo up and a default route. */
export async function createPodNetwork(ns: string, addr: string): Promise<void> {
  const id = ns.slice(NETNS_PREFIX.length);
  const host = `gfv${id}`;
  const peer = `gfc${id}`;
  await deletePodNetwork(ns); // a leftover of a crashed run with the same uid
  await ip('netns', 'add', ns);
  await ip('link', 'add', host, 'type', 'veth', 'peer', 'name', peer);
  await ip('link', 'set', peer, 'netns', ns);
  await ip('link', 'set', host, 'master', BRIDGE, 'up');
  await ip('-n', ns, 'link', 'set', peer, 'name', 'eth0');
  await ip('-n', ns, 'addr', 'add', `${addr}/${POD_PREFIX_LEN}`, 'dev', 'eth0');
  await ip('-n', ns, 'link', 'set', 'eth0', 'up');
  await ip('-n', ns, 'link', 'set', 'lo', 'up');
  await ip('-n', ns, 'route', 'add', 'default', 'via', BRIDGE_IP);
}

/**
 * Files `ip netns exec` bind-mounts over /etc/<file> in the pod: hosts (the
 * cluster's Service names, see service-names.ts) and resolv.conf.
 */
export function writeNetnsEtc(ns: string, files: Record<string, string>): void {
  const dir = join(ETC_NETNS, ns);
  mkdirSync(dir, { recursive: true });
  // In place (same inode): a running pod's /etc/hosts is a bind mount of this file.
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
}

async function killNetnsProcesses(ns: string): Promise<void> {
  const pids = (await ip('netns', 'pids', ns).catch(() => ''))
    .split(/\s+/)
    .filter(Boolean)
    .map(Number);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

export async function deletePodNetwork(ns: string): Promise<void> {
  const existing = await ip('netns', 'list').catch(() => '');
  if (new RegExp(`^${ns}( |$)`, 'm').test(existing)) {
    await killNetnsProcesses(ns);
    await ipQuiet('netns', 'del', ns);
  }
  await ipQuiet('link', 'del', `gfv${ns.slice(NETNS_PREFIX.length)}`);
  rmSync(join(ETC_NETNS, ns), { recursive: true, force: true });
}

/** Removes every pod network namespace, its processes, and the bridge with its addresses. */
export async function cleanupNetwork(): Promise<void> {
  const list = await ip('netns', 'list').catch(() => '');
  for (const line of list.split('\n')) {
    const ns = line.split(' ')[0];
    if (ns?.startsWith(NETNS_PREFIX)) await deletePodNetwork(ns);
  }
  let etc: string[] = [];
  try {
    etc = readdirSync(ETC_NETNS);
  } catch {
    // no /etc/netns
  }
  for (const d of etc) {
    if (d.startsWith(NETNS_PREFIX)) rmSync(join(ETC_NETNS, d), { recursive: true, force: true });
  }
  await ipQuiet('link', 'del', BRIDGE);
}
