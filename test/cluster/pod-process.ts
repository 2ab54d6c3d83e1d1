// One container as a local process: started with `ip netns exec` in its pod's
// network namespace (which also gives it a private mount namespace and the
// pod's /etc/hosts and /etc/resolv.conf), its volumes bind-mounted at their
// mountPaths inside that mount namespace only, its environment as the
// kubelet builds it, its output in a log file with a timestamp per line (what
// the kubelet's containerLogs endpoint serves, see kubelet-server.ts). Plus the
// readiness probes the kubelet runs (httpGet, tcpSocket, exec).
import { spawn, type ChildProcess } from 'node:child_process';
import {
  appendFileSync,
  createWriteStream,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  type WriteStream,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import type { Readable } from 'node:stream';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface Mount {
  source: string;
  target: string;
  readOnly: boolean;
}

export interface ContainerLaunch {
  netns: string;
  argv: string[];
  env: Record<string, string>;
  mounts: Mount[];
  cwd: string;
  logFile: string;
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The bash prologue run inside the pod's mount namespace before exec'ing the
 * program. Every source is opened first and mounted through its descriptor
 * (/proc/self/fd/N): a volume mounted over a directory that holds the other
 * volumes' sources (an emptyDir at /tmp while the sources live under /tmp)
 * would otherwise hide them. For the same reason each `keep` path (the
 * repository the programs run from) is mounted back over itself when a
 * volume hides it: in a real container the image's files are never under a
 * volume's mount point. `--no-canonicalize`: mount would otherwise read the
 * descriptor's link back into a path, which may now name the hiding volume.
 */
export function mountScript(mounts: Mount[], keep: readonly string[] = []): string {
  const lines = ['set -e'];
  // Parents before children: a volume at /a must not hide one at /a/b.
  const ordered = [...mounts].sort((a, b) => a.target.length - b.target.length);
  const hidden = keep.filter((k) =>
    ordered.some(
      (m) => k === m.target || k.startsWith(m.target.endsWith('/') ? m.target : `${m.target}/`),
    ),
  );
  ordered.forEach((m, i) => lines.push(`exec {src${i}}<${quote(m.source)}`));
  hidden.forEach((k, i) => lines.push(`exec {keep${i}}<${quote(k)}`));
  ordered.forEach((m, i) => {
    // mkdir for a mount point inside another volume (prepareMountPoints made the others).
    lines.push(
      `mkdir -p ${quote(m.target)}`,
      `mount --no-canonicalize --bind "/proc/self/fd/$src${i}" ${quote(m.target)}`,
    );
    if (m.readOnly) lines.push(`mount -o remount,bind,ro ${quote(m.target)}`);
  });
  hidden.forEach((k, i) =>
    lines.push(
      `mkdir -p ${quote(k)}`,
      `mount --no-canonicalize --bind "/proc/self/fd/$keep${i}" ${quote(k)}`,
    ),
  );
  ordered.forEach((_, i) => lines.push(`exec {src${i}}<&-`));
  hidden.forEach((_, i) => lines.push(`exec {keep${i}}<&-`));
  lines.push('exec "$@"');
  return lines.join('\n');
}

/** The repository the local programs run from (this file is in dist/test/cluster/ or test/cluster/). */
const REPOSITORY = ((d: string) =>
  d.includes('/dist/') ? join(d, '..', '..', '..') : join(d, '..', '..'))(import.meta.dirname);

/** The ledger's file name in the node agent's state directory. */
export const MOUNT_POINTS = 'mount-points.txt';

/**
 * Creates the mount points that do not exist on this machine (empty directories, e.g.
 * /etc/secret-volume) and records the top-most new directory of each in `ledger`, so
 * removeMountPoints() can take them away again.
 */
export function prepareMountPoints(mounts: Mount[], ledger: string): void {
  for (const m of mounts) {
    let top: string | undefined;
    for (let p = m.target; !existsSync(p); p = dirname(p)) top = p;
    if (!top) continue;
    appendFileSync(ledger, `${top}\n`);
    mkdirSync(m.target, { recursive: true });
  }
}

/** Removes a directory tree made only of empty directories; true when it is gone. */
function removeEmptyTree(path: string): boolean {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return true;
  }
  if (!st.isDirectory()) return false;
  let empty = true;
  for (const e of readdirSync(path)) if (!removeEmptyTree(join(path, e))) empty = false;
  if (empty) rmdirSync(path);
  return empty;
}

/** Removes what prepareMountPoints() created, where it is still only empty directories. */
export function removeMountPoints(ledger: string): void {
  let text = '';
  try {
    text = readFileSync(ledger, 'utf8');
  } catch {
    return;
  }
  for (const p of new Set(text.split('\n').filter(Boolean))) removeEmptyTree(p);
}

/** Copies a stream to the log, each line prefixed with its RFC 3339 time and the stream name. */
function timestamped(from: Readable, stream: string, log: WriteStream): Promise<void> {
  let partial = '';
  from.setEncoding('utf8');
  from.on('data', (text: string) => {
    const lines = (partial + text).split('\n');
    partial = lines.pop()!;
    const at = new Date().toISOString();
    for (const line of lines) log.write(`${at} ${stream} ${line}\n`);
  });
  return new Promise((resolve) =>
    from.on('close', () => {
      if (partial) log.write(`${new Date().toISOString()} ${stream} ${partial}\n`);
      resolve();
    }),
  );
}

/** Starts the container; the child is its own process group (stop() signals the group). */
export function launch(l: ContainerLaunch): ChildProcess {
  const child = spawn(
    'ip',
    [
      'netns',
      'exec',
      l.netns,
      'bash',
      '-c',
      mountScript(l.mounts, [REPOSITORY]),
      'bash',
      ...l.argv,
    ],
    { cwd: l.cwd, env: l.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const log = createWriteStream(l.logFile, { flags: 'a' });
  void Promise.all([
    timestamped(child.stdout!, 'stdout', log),
    timestamped(child.stderr!, 'stderr', log),
  ]).then(() => log.end());
  return child;
}

export function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/** Expands $(VAR) references like the kubelet ($$ escapes; unknown names stay as they are). */
export function expand(text: string, env: Record<string, string>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name: string | undefined) =>
    m === '$$' ? '$' : name !== undefined && name in env ? env[name]! : m,
  );
}

/** A container port given by name or number. */
export function resolvePort(container: Any, port: number | string): number {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  const p = ((container.ports ?? []) as Any[]).find((x) => x.name === port);
  if (!p) throw new Error(`container ${container.name} has no port named ${port}`);
  return p.containerPort as number;
}

/** Runs one probe; true when it succeeds. */
export function probeOnce(
  probe: Any,
  container: Any,
  podIP: string,
  netns: string,
): Promise<boolean> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  if (probe.httpGet) {
    const g = probe.httpGet;
    const https = g.scheme === 'HTTPS';
    const headers: Record<string, string> = { 'user-agent': 'kube-probe/1.35' };
    for (const h of (g.httpHeaders ?? []) as Any[]) headers[h.name] = h.value;
    return new Promise((resolve) => {
      const req = (https ? httpsRequest : request)(
        {
          host: g.host || podIP,
          port: resolvePort(container, g.port),
          path: g.path ?? '/',
          headers,
          timeout: timeoutMs,
          rejectUnauthorized: false,
        },
        (res) => {
          res.resume();
          const s = res.statusCode ?? 0;
          resolve(s >= 200 && s < 400);
        },
      );
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(false));
      req.end();
    });
  }
  if (probe.tcpSocket) {
    return new Promise((resolve) => {
      const s = connect({
        host: probe.tcpSocket.host || podIP,
        port: resolvePort(container, probe.tcpSocket.port),
      });
      const done = (ok: boolean) => {
        s.destroy();
        resolve(ok);
      };
      s.setTimeout(timeoutMs, () => done(false));
      s.on('connect', () => done(true));
      s.on('error', () => done(false));
    });
  }
  if (probe.exec) {
    return new Promise((resolve) => {
      const child = spawn('ip', ['netns', 'exec', netns, ...(probe.exec.command as string[])], {
        stdio: 'ignore',
        timeout: timeoutMs,
      });
      child.on('error', () => resolve(false));
      child.on('exit', (code) => resolve(code === 0));
    });
  }
  return Promise.resolve(false);
}
