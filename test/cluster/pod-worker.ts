// One pod bound to the local node, from start to deletion, as a kubelet runs
// it: network namespace and IP, volumes, environment (downward API, Secret
// and ConfigMap references, the kubernetes Service variables), its containers
// as local processes restarted with back-off, readiness probes, and the pod's
// status (phase, podIP, conditions, containerStatuses). A pod being deleted
// gets its preStop sleep, SIGTERM, SIGKILL after the grace period, and is
// then removed from the API server with grace 0.
import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  createPodNetwork,
  deletePodNetwork,
  netnsName,
  writeNetnsEtc,
  type PodIpPool,
} from './host-network.js';
import { containerArgv, type ImageMap } from './images.js';
import {
  expand,
  launch,
  MOUNT_POINTS,
  prepareMountPoints,
  probeOnce,
  signalGroup,
  type Mount,
} from './pod-process.js';
import {
  fieldRefValue,
  materializeVolumes,
  VolumeNotReady,
  type VolumeSources,
} from './volumes.js';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface PodContext {
  nodeName: string;
  hostIP: string;
  stateDir: string;
  images: ImageMap;
  ipPool: PodIpPool;
  sources: VolumeSources;
  /** KUBERNETES_SERVICE_HOST and friends. */
  serviceEnv(): Record<string, string>;
  /** /etc/hosts and /etc/resolv.conf of a pod. */
  etcFiles(namespace: string, podName: string, podIP: string): Record<string, string>;
  writeStatus(pod: Any, status: Any): Promise<void>;
  deletePod(pod: Any): Promise<void>;
  log(msg: string, fields?: Record<string, unknown>): void;
}

interface ContainerState {
  spec: Any;
  child?: ChildProcess;
  restartCount: number;
  startedAt?: string;
  ready: boolean;
  probeOk: number;
  probeFail: number;
  everReady: boolean;
  waiting?: { reason: string; message?: string };
  lastTerminated?: Any;
  terminated?: Any;
  backoffMs: number;
  timers: NodeJS.Timeout[];
}

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
const MAX_BACKOFF_MS = 20_000;

export class PodWorker {
  readonly netns: string;
  private podIP?: string;
  private readonly dir: string;
  private readonly startTime = now();
  private containers = new Map<string, ContainerState>();
  private stopping = false;
  private stopped = false;
  private podWaiting?: { reason: string; message: string };
  private lastStatus = '';
  private statusChain: Promise<void> = Promise.resolve();
  private transitions = new Map<string, { status: string; at: string }>();

  constructor(
    private pod: Any,
    private readonly ctx: PodContext,
  ) {
    this.netns = netnsName(pod.metadata.uid);
    const md = pod.metadata;
    this.dir = join(ctx.stateDir, 'pods', `${md.namespace}_${md.name}_${md.uid.slice(0, 8)}`);
    for (const c of pod.spec.containers as Any[]) {
      this.containers.set(c.name, {
        spec: c,
        restartCount: 0,
        ready: false,
        probeOk: 0,
        probeFail: 0,
        everReady: false,
        waiting: { reason: 'ContainerCreating' },
        backoffMs: 1000,
        timers: [],
      });
    }
  }

  /** The log file of one of the pod's containers. */
  logFile(container: string): string | undefined {
    return this.containers.has(container) ? join(this.dir, `${container}.log`) : undefined;
  }

  get namespace(): string {
    return this.pod.metadata.namespace;
  }

  get name(): string {
    return this.pod.metadata.name;
  }

  update(pod: Any): void {
    this.pod = pod;
    if (pod.metadata.deletionTimestamp && !this.stopping) void this.terminate();
  }

  async start(): Promise<void> {
    const { namespace, name } = this.pod.metadata;
    if ((this.pod.spec.initContainers ?? []).length > 0) {
      this.podWaiting = {
        reason: 'Unsupported',
        message: 'the local node agent runs no init containers',
      };
      this.publish();
      return;
    }
    mkdirSync(this.dir, { recursive: true });
    try {
      this.podIP = this.ctx.ipPool.allocate();
      await createPodNetwork(this.netns, this.podIP);
    } catch (e) {
      this.podWaiting = { reason: 'CreatePodSandboxError', message: (e as Error).message };
      this.publish();
      throw e;
    }
    this.refreshEtc();
    this.publish();
    let volumes: Map<string, string> | undefined;
    while (!this.stopping) {
      try {
        volumes = await materializeVolumes(
          this.podWithIP(),
          join(this.dir, 'volumes'),
          this.ctx.sources,
        );
        break;
      } catch (e) {
        const message = (e as Error).message;
        const reason =
          e instanceof VolumeNotReady ? 'ContainerCreating' : 'CreateContainerConfigError';
        if (this.podWaiting?.message !== message)
          this.ctx.log('pod waiting', { namespace, name, message });
        this.podWaiting = { reason, message };
        this.publish();
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    this.podWaiting = undefined;
    if (!volumes || this.stopping) return;
    for (const c of this.containers.values()) this.startContainer(c, volumes);
    this.publish();
  }

  /** Hosts file follows the cluster's Services. */
  refreshEtc(): void {
    if (!this.podIP || this.stopped) return;
    const md = this.pod.metadata;
    writeNetnsEtc(this.netns, this.ctx.etcFiles(md.namespace, md.name, this.podIP));
  }

  private podWithIP(): Any {
    return {
      ...this.pod,
      status: { ...this.pod.status, podIP: this.podIP, hostIP: this.ctx.hostIP },
    };
  }

  private env(c: Any): Record<string, string> | { problem: string } {
    const pod = this.podWithIP();
    const ns = pod.metadata.namespace;
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      HOME: '/root',
      HOSTNAME: pod.metadata.name,
      ...this.ctx.serviceEnv(),
    };
    for (const from of (c.envFrom ?? []) as Any[]) {
      const ref = from.configMapRef ?? from.secretRef;
      const obj = from.configMapRef
        ? this.ctx.sources.configMap(ns, ref.name)
        : this.ctx.sources.secret(ns, ref.name);
      if (!obj) {
        if (ref.optional) continue;
        return { problem: `${from.configMapRef ? 'configmap' : 'secret'} "${ref.name}" not found` };
      }
      for (const [k, v] of Object.entries((obj.data ?? {}) as Record<string, string>)) {
        env[(from.prefix ?? '') + k] = from.secretRef ? Buffer.from(v, 'base64').toString() : v;
      }
    }
    for (const e of (c.env ?? []) as Any[]) {
      if (e.valueFrom === undefined) {
        env[e.name] = expand(e.value ?? '', env);
        continue;
      }
      const vf = e.valueFrom;
      if (vf.fieldRef) env[e.name] = fieldRefValue(pod, vf.fieldRef.fieldPath);
      else if (vf.secretKeyRef || vf.configMapKeyRef) {
        const ref = vf.secretKeyRef ?? vf.configMapKeyRef;
        const obj = vf.secretKeyRef
          ? this.ctx.sources.secret(ns, ref.name)
          : this.ctx.sources.configMap(ns, ref.name);
        const raw = (obj?.data as Record<string, string> | undefined)?.[ref.key];
        if (raw === undefined) {
          if (ref.optional) continue;
          return { problem: `${ref.name}/${ref.key} not found for env ${e.name}` };
        }
        env[e.name] = vf.secretKeyRef ? Buffer.from(raw, 'base64').toString() : raw;
      } else if (vf.resourceFieldRef) env[e.name] = '0';
    }
    return env;
  }

  private startContainer(c: ContainerState, volumes: Map<string, string>): void {
    if (this.stopping) return;
    const spec = c.spec;
    const program = this.ctx.images.resolve(spec.image);
    if ('problem' in program) {
      c.waiting = { reason: 'ErrImageNeverPull', message: program.problem };
      return;
    }
    const env = this.env(spec);
    if ('problem' in env) {
      c.waiting = { reason: 'CreateContainerConfigError', message: env.problem };
      c.timers.push(setTimeout(() => this.startContainer(c, volumes), 1000));
      return;
    }
    const x = (list?: string[]) => list?.map((s) => expand(s, env));
    const argv = containerArgv(program, x(spec.command), x(spec.args));
    if ('problem' in argv) {
      c.waiting = { reason: 'RunContainerError', message: argv.problem };
      return;
    }
    const mounts: Mount[] = [];
    for (const m of (spec.volumeMounts ?? []) as Any[]) {
      const source = volumes.get(m.name);
      if (!source) {
        c.waiting = { reason: 'CreateContainerConfigError', message: `no volume ${m.name}` };
        return;
      }
      mounts.push({
        source: m.subPath ? join(source, m.subPath) : source,
        target: m.mountPath,
        readOnly: false,
      });
    }
    prepareMountPoints(mounts, join(this.ctx.stateDir, MOUNT_POINTS));
    const child = launch({
      netns: this.netns,
      argv,
      env,
      mounts,
      cwd: this.dir,
      logFile: join(this.dir, `${spec.name}.log`),
    });
    c.child = child;
    c.waiting = undefined;
    c.terminated = undefined;
    c.startedAt = now();
    c.ready = false;
    c.probeOk = c.probeFail = 0;
    const startedAt = Date.now();
    child.on('exit', (code, signal) => this.exited(c, child, code, signal, startedAt, volumes));
    if (spec.readinessProbe)
      this.scheduleProbe(c, child, (spec.readinessProbe.initialDelaySeconds ?? 0) * 1000);
    else c.ready = true;
    this.publish();
  }

  private exited(
    c: ContainerState,
    child: ChildProcess,
    code: number | null,
    signal: NodeJS.Signals | null,
    startedAt: number,
    volumes: Map<string, string>,
  ): void {
    if (c.child !== child) return;
    c.child = undefined;
    c.ready = false;
    const exitCode = code ?? 128 + (signal === 'SIGKILL' ? 9 : 15);
    c.terminated = {
      exitCode,
      reason: exitCode === 0 ? 'Completed' : 'Error',
      startedAt: c.startedAt,
      finishedAt: now(),
      containerID: `gatefleet://${child.pid}`,
    };
    if (this.stopping) return this.publish();
    const policy = this.pod.spec.restartPolicy ?? 'Always';
    if (policy === 'Never' || (policy === 'OnFailure' && exitCode === 0)) return this.publish();
    this.ctx.log('container exited; restarting', {
      pod: `${this.pod.metadata.namespace}/${this.pod.metadata.name}`,
      container: c.spec.name,
      exitCode,
    });
    if (Date.now() - startedAt > 60_000) c.backoffMs = 1000;
    c.lastTerminated = c.terminated;
    c.terminated = undefined;
    c.waiting = {
      reason: 'CrashLoopBackOff',
      message: `back-off ${c.backoffMs / 1000}s restarting failed container`,
    };
    c.restartCount++;
    c.timers.push(setTimeout(() => this.startContainer(c, volumes), c.backoffMs));
    c.backoffMs = Math.min(MAX_BACKOFF_MS, c.backoffMs * 2);
    this.publish();
  }

  private scheduleProbe(c: ContainerState, child: ChildProcess, delayMs: number): void {
    c.timers.push(
      setTimeout(async () => {
        if (c.child !== child || this.stopping) return;
        const probe = c.spec.readinessProbe;
        const ok = await probeOnce(probe, c.spec, this.podIP!, this.netns).catch(() => false);
        if (c.child !== child) return;
        if (ok) {
          c.probeFail = 0;
          if (++c.probeOk >= (probe.successThreshold ?? 1)) c.ready = c.everReady = true;
        } else {
          c.probeOk = 0;
          if (++c.probeFail >= (probe.failureThreshold ?? 3)) c.ready = false;
        }
        this.publish();
        // Until the first success the probe runs every second (a kubelet waits periodSeconds):
        // pods become Ready as soon as they are, which keeps the conformance run short.
        const period = (probe.periodSeconds ?? 10) * 1000;
        this.scheduleProbe(c, child, c.everReady ? period : Math.min(period, 1000));
      }, delayMs),
    );
  }

  private condition(type: string, ok: boolean): Any {
    const status = ok ? 'True' : 'False';
    const prev = this.transitions.get(type);
    if (!prev || prev.status !== status) this.transitions.set(type, { status, at: now() });
    return {
      type,
      status,
      lastProbeTime: null,
      lastTransitionTime: this.transitions.get(type)!.at,
    };
  }

  private status(): Any {
    const cs = [...this.containers.values()];
    const allReady = !this.stopping && cs.every((c) => c.ready);
    const running = cs.some((c) => c.child);
    const policy = this.pod.spec.restartPolicy ?? 'Always';
    let phase = running ? 'Running' : 'Pending';
    if (!running && policy !== 'Always' && cs.every((c) => c.terminated)) {
      phase = cs.every((c) => c.terminated?.exitCode === 0) ? 'Succeeded' : 'Failed';
    }
    const containerStatuses = cs.map((c) => {
      const s = c.spec;
      const waiting = this.podWaiting ?? c.waiting;
      const state = c.child
        ? { running: { startedAt: c.startedAt } }
        : c.terminated
          ? { terminated: c.terminated }
          : { waiting: waiting ?? { reason: 'ContainerCreating' } };
      return {
        name: s.name,
        image: s.image,
        imageID: s.image,
        ...(c.child ? { containerID: `gatefleet://${c.child.pid}` } : {}),
        ready: c.ready && !!c.child,
        started: !!c.child,
        restartCount: c.restartCount,
        state,
        lastState: c.lastTerminated ? { terminated: c.lastTerminated } : {},
      };
    });
    return {
      phase,
      hostIP: this.ctx.hostIP,
      hostIPs: [{ ip: this.ctx.hostIP }],
      ...(this.podIP ? { podIP: this.podIP, podIPs: [{ ip: this.podIP }] } : {}),
      startTime: this.startTime,
      conditions: [
        this.condition('PodReadyToStartContainers', !!this.podIP),
        this.condition('Initialized', true),
        this.condition('Ready', allReady),
        this.condition('ContainersReady', allReady),
        this.condition('PodScheduled', true),
      ],
      containerStatuses,
    };
  }

  /** Writes the status when it changed (serialized; the latest wins). */
  publish(): void {
    if (this.stopped) return;
    const status = this.status();
    const text = JSON.stringify(status);
    if (text === this.lastStatus) return;
    this.lastStatus = text;
    this.statusChain = this.statusChain
      .then(() =>
        this.lastStatus === text && !this.stopped
          ? this.ctx.writeStatus(this.pod, status)
          : undefined,
      )
      .catch((e: Error) =>
        this.ctx.log('status write failed', { pod: this.pod.metadata.name, error: e.message }),
      );
  }

  /** Graceful stop (the pod has a deletionTimestamp), then removal from the API server. */
  async terminate(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.publish();
    const graceMs = Math.min(30, this.pod.metadata.deletionGracePeriodSeconds ?? 30) * 1000;
    const deadline = Date.now() + graceMs;
    await Promise.all(
      [...this.containers.values()].map(async (c) => {
        for (const t of c.timers) clearTimeout(t);
        const child = c.child;
        if (!child) return;
        const preStop = c.spec.lifecycle?.preStop?.sleep?.seconds as number | undefined;
        if (preStop) await new Promise((r) => setTimeout(r, Math.min(preStop * 1000, graceMs)));
        signalGroup(child, 'SIGTERM');
        await waitExit(child, Math.max(0, deadline - Date.now()));
        signalGroup(child, 'SIGKILL');
        await waitExit(child, 5000);
      }),
    );
    await this.release();
    await this.ctx
      .deletePod(this.pod)
      .catch((e: Error) => this.ctx.log('pod delete failed', { error: e.message }));
  }

  /** The pod is gone from the API server: stop at once. */
  async kill(): Promise<void> {
    this.stopping = true;
    for (const c of this.containers.values()) {
      for (const t of c.timers) clearTimeout(t);
      if (c.child) signalGroup(c.child, 'SIGKILL');
    }
    await this.release();
  }

  private async release(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await deletePodNetwork(this.netns);
    if (this.podIP) this.ctx.ipPool.release(this.podIP);
  }
}

function waitExit(child: ChildProcess, ms: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
  });
}
