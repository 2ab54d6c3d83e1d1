// Services of the local cluster, in user space (this machine has no
// iptables): every Service cluster IP and every load-balancer IP is a /32 on
// the bridge, and a TCP listener on each ip:port forwards each connection to a
// ready endpoint of the Service's EndpointSlices (round robin). LoadBalancer
// Services get an address from LB_RANGE (spec.loadBalancerIP when it is in
// the range and free) written to status.loadBalancer.ingress, in the spirit of
// cloud-provider-kind: reachable from this machine and from every pod.
// The `kubernetes` Service has no endpoints here (the API server runs with
// --endpoint-reconciler-type none and listens on loopback): it forwards to
// the API server itself.
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { KubeObject } from '../../controller/providers/kube/kinds.js';
import type { KubeRest } from '../../controller/providers/kube/rest.js';
import { addAddress, intToIp, ipToInt, LB_RANGE, removeAddress } from './host-network.js';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface Target {
  host: string;
  port: number;
}

interface Listener {
  server: Server;
  /** namespace/name/portName */
  backend: string;
}

export class ServiceProxy {
  private readonly listeners = new Map<string, Listener>();
  private endpoints = new Map<string, Target[]>();
  private readonly rr = new Map<string, number>();
  /** Service uid → load-balancer IP. */
  private readonly lbIPs = new Map<string, string>();
  private syncing = false;
  private again = false;
  private latest?: { services: KubeObject[]; slices: KubeObject[] };
  private closed = false;

  constructor(
    private readonly rest: KubeRest,
    private readonly apiServer: Target,
    private readonly log: (msg: string, fields?: Record<string, unknown>) => void,
  ) {}

  /** Brings listeners, endpoints and load-balancer status in line (serialized; the latest wins). */
  sync(services: KubeObject[], slices: KubeObject[]): void {
    this.latest = { services, slices };
    if (this.syncing) {
      this.again = true;
      return;
    }
    this.syncing = true;
    void (async () => {
      try {
        do {
          this.again = false;
          await this.syncOnce(this.latest!.services, this.latest!.slices);
        } while (this.again && !this.closed);
      } catch (e) {
        this.log('service sync failed', { error: (e as Error).message });
      } finally {
        this.syncing = false;
      }
    })();
  }

  /**
   * The Service's load-balancer IP. spec.loadBalancerIP is honoured when it is
   * in LB_RANGE and free, also when it changes later (the Service moves to
   * it); otherwise the Service keeps, or gets, another address of the range,
   * as a provider does that cannot use the address asked for.
   */
  private allocateLb(svc: Any): string {
    const uid = svc.metadata.uid as string;
    const have = this.lbIPs.get(uid);
    const first = ipToInt(LB_RANGE.first);
    const last = ipToInt(LB_RANGE.last);
    const wanted = svc.spec.loadBalancerIP as string | undefined;
    const used = new Set([...this.lbIPs].filter(([u]) => u !== uid).map(([, ip]) => ip));
    const usable =
      wanted !== undefined &&
      /^\d+\.\d+\.\d+\.\d+$/.test(wanted) &&
      ipToInt(wanted) >= first &&
      ipToInt(wanted) <= last &&
      !used.has(wanted);
    if (have && (!usable || wanted === have)) return have;
    let ip: string | undefined = usable ? wanted : undefined;
    for (let n = first; !ip && n <= last; n++) if (!used.has(intToIp(n))) ip = intToIp(n);
    if (!ip) throw new Error('load-balancer range exhausted');
    this.lbIPs.set(uid, ip);
    return ip;
  }

  private async syncOnce(services: KubeObject[], slices: KubeObject[]): Promise<void> {
    const endpoints = new Map<string, Target[]>();
    for (const s of slices as Any[]) {
      const svc = s.metadata.labels?.['kubernetes.io/service-name'];
      if (!svc) continue;
      for (const p of (s.ports ?? []) as Any[]) {
        if ((p.protocol ?? 'TCP') !== 'TCP' || p.port === undefined) continue;
        const key = `${s.metadata.namespace}/${svc}/${p.name ?? ''}`;
        const list = endpoints.get(key) ?? [];
        for (const e of (s.endpoints ?? []) as Any[]) {
          if (e.conditions?.ready === false || !e.addresses?.[0]) continue;
          list.push({ host: e.addresses[0], port: p.port });
        }
        endpoints.set(key, list);
      }
    }
    this.endpoints = endpoints;

    const wanted = new Map<string, string>(); // ip:port → backend
    const liveLb = new Set<string>();
    for (const svc of services as Any[]) {
      const md = svc.metadata;
      const ports = ((svc.spec.ports ?? []) as Any[]).filter(
        (p) => (p.protocol ?? 'TCP') === 'TCP',
      );
      const ips: string[] = [];
      if (svc.spec.clusterIP && svc.spec.clusterIP !== 'None') ips.push(svc.spec.clusterIP);
      if (svc.spec.type === 'LoadBalancer') {
        const lb = this.allocateLb(svc);
        liveLb.add(md.uid);
        ips.push(lb);
        const ingress = svc.status?.loadBalancer?.ingress as Any[] | undefined;
        if (ingress?.length !== 1 || ingress[0]?.ip !== lb) {
          await this.rest
            .request('PATCH', `/api/v1/namespaces/${md.namespace}/services/${md.name}/status`, {
              body: { status: { loadBalancer: { ingress: [{ ip: lb, ipMode: 'VIP' }] } } },
              contentType: 'application/merge-patch+json',
            })
            .catch((e: Error) =>
              this.log('load-balancer status write failed', { error: e.message }),
            );
        }
      }
      for (const ip of ips) {
        for (const p of ports)
          wanted.set(`${ip}:${p.port}`, `${md.namespace}/${md.name}/${p.name ?? ''}`);
      }
    }
    for (const [uid] of this.lbIPs) if (!liveLb.has(uid)) this.lbIPs.delete(uid);

    for (const [key, l] of this.listeners) {
      const backend = wanted.get(key);
      if (backend !== undefined) {
        l.backend = backend; // same address and port, maybe another Service now
        continue;
      }
      this.listeners.delete(key);
      l.server.close(); // stops accepting; connections through it end on their own
    }
    const addresses = new Set([...wanted.keys()].map((k) => k.slice(0, k.lastIndexOf(':'))));
    for (const [key, backend] of wanted) {
      if (this.listeners.has(key) || this.closed) continue;
      const i = key.lastIndexOf(':');
      const host = key.slice(0, i);
      await addAddress(host);
      const listener: Listener = { server: createServer(), backend };
      listener.server.on('connection', (sock: Socket) => this.forward(sock, listener.backend));
      const server = listener.server;
      this.listeners.set(key, listener);
      await new Promise<void>((resolve) => {
        server.once('error', (e) => {
          this.log('service listener failed', { address: key, error: e.message });
          resolve();
        });
        server.listen({ host, port: Number(key.slice(i + 1)) }, resolve);
      });
    }
    for (const a of this.boundAddresses) if (!addresses.has(a)) await removeAddress(a);
    this.boundAddresses = addresses;
  }

  private boundAddresses = new Set<string>();

  private pick(backend: string): Target | undefined {
    if (backend === 'default/kubernetes/https') return this.apiServer;
    const list = this.endpoints.get(backend);
    if (!list || list.length === 0) return undefined;
    const n = this.rr.get(backend) ?? 0;
    this.rr.set(backend, n + 1);
    return list[n % list.length];
  }

  private forward(client: Socket, backend: string): void {
    const target = this.pick(backend);
    if (!target) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(target);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => (client.destroyed ? undefined : client.resetAndDestroy()));
    client.pipe(upstream).pipe(client);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const l of this.listeners.values()) {
      l.server.close();
    }
    this.listeners.clear();
    for (const a of this.boundAddresses) await removeAddress(a);
  }
}
