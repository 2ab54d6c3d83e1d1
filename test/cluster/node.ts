// The local node's registration: a Node object that is Ready, its status
// refreshed every 30 s, and its Lease in kube-node-lease renewed every 10 s
// (kube-controller-manager's node lifecycle controller taints and evicts a
// node whose Lease goes stale). Its address and kubelet port are where the API
// server reads pod logs from (kubelet-server.ts).
import type { KubeRest } from '../../controller/providers/kube/rest.js';
import { isStatus } from '../../controller/providers/kube/rest.js';
import { KUBELET_PORT } from './kubelet-server.js';

const LEASE_NS = 'kube-node-lease';
const microTime = () => new Date().toISOString().replace(/(\.\d{3})Z$/, '$1000Z');

export class NodeRegistration {
  private timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly rest: KubeRest,
    readonly name: string,
    readonly address: string,
    private readonly log: (msg: string, fields?: Record<string, unknown>) => void,
  ) {}

  async register(): Promise<void> {
    const labels = {
      'kubernetes.io/hostname': this.name,
      'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': 'amd64',
    };
    try {
      await this.rest.request('POST', '/api/v1/nodes', {
        body: { apiVersion: 'v1', kind: 'Node', metadata: { name: this.name, labels }, spec: {} },
      });
    } catch (e) {
      if (!isStatus(e, 409)) throw e;
    }
    await this.heartbeat();
    await this.renewLease();
    this.timers.push(
      setInterval(
        () => void this.heartbeat().catch((e: Error) => this.failed('node status', e)),
        30_000,
      ),
    );
    this.timers.push(
      setInterval(
        () => void this.renewLease().catch((e: Error) => this.failed('lease', e)),
        10_000,
      ),
    );
  }

  private failed(what: string, e: Error): void {
    this.log(`${what} update failed`, { error: e.message });
  }

  private async heartbeat(): Promise<void> {
    const t = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const cond = (type: string, status: string, reason: string) => ({
      type,
      status,
      reason,
      message: reason,
      lastHeartbeatTime: t,
      lastTransitionTime: t,
    });
    const resources = { cpu: '2', memory: '16Gi', pods: '250', 'ephemeral-storage': '50Gi' };
    await this.rest.request('PATCH', `/api/v1/nodes/${this.name}/status`, {
      contentType: 'application/merge-patch+json',
      body: {
        status: {
          conditions: [
            cond('Ready', 'True', 'KubeletReady'),
            cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory'),
            cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure'),
            cond('PIDPressure', 'False', 'KubeletHasSufficientPID'),
          ],
          // No Hostname address: the API server would dial it first for pods/log, and the node's
          // name does not resolve.
          addresses: [{ type: 'InternalIP', address: this.address }],
          daemonEndpoints: { kubeletEndpoint: { Port: KUBELET_PORT } },
          capacity: resources,
          allocatable: resources,
          nodeInfo: {
            kubeletVersion: 'v1.35.4',
            kubeProxyVersion: '',
            operatingSystem: 'linux',
            architecture: 'amd64',
            containerRuntimeVersion: 'gatefleet-node-agent://0.1.0',
            osImage: 'local processes',
            kernelVersion: '',
            machineID: '',
            systemUUID: '',
            bootID: '',
          },
        },
      },
    });
  }

  private async renewLease(): Promise<void> {
    const path = `/apis/coordination.k8s.io/v1/namespaces/${LEASE_NS}/leases/${this.name}`;
    const spec = { holderIdentity: this.name, leaseDurationSeconds: 40, renewTime: microTime() };
    try {
      await this.rest.request('PATCH', path, {
        contentType: 'application/merge-patch+json',
        body: { spec },
      });
    } catch (e) {
      if (!isStatus(e, 404)) throw e;
      await this.rest.request(
        'POST',
        `/apis/coordination.k8s.io/v1/namespaces/${LEASE_NS}/leases`,
        {
          body: {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name: this.name },
            spec,
          },
        },
      );
    }
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
  }
}
