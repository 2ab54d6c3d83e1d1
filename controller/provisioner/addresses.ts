// Gateway status.addresses from the Services the provisioner owns.
//
// - LoadBalancer: status.loadBalancer.ingress[] as the cloud provider wrote
//   it, `ip` as IPAddress, else `hostname` as Hostname. None yet: no address
//   (the load balancer is still being provisioned).
// - ClusterIP: spec.clusterIPs (spec.clusterIP on older servers), IPAddress.
// - NodePort: also the cluster IPs. A Gateway address carries no port, and
//   the listeners' ports are served on the cluster IP, while a node's address
//   would need the allocated node port instead; node addresses are not
//   reported.
// A fleet's addresses are those of every node group's Service (every shard
// has its own), in node group name order, without duplicates: each Gateway of
// the fleet (several, when merged) reports them all.
//
// Requested addresses (Gateway spec.addresses, IPAddress, carried in the
// fleet's infrastructure.addresses) are checked against what the Services
// got (requestedAddressProblem): the Gateway is not Programmed while one
// cannot be had. An address is usable when the infrastructure assigned it;
// gatefleet keeps no list of usable addresses of its own.
import type { FleetAddress } from '../ir/types.js';
import type { KubeObject } from '../providers/kube/kinds.js';
import { Reason } from '../translator/reasons.js';
import { Annotation, fleetLabel, Label, MANAGED_BY } from './names.js';

export interface GatewayAddress {
  type: 'IPAddress' | 'Hostname';
  value: string;
}

interface ServiceShape {
  spec?: { type?: string; clusterIP?: string; clusterIPs?: string[] };
  status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } };
}

export function serviceAddresses(svc: KubeObject): GatewayAddress[] {
  const { spec, status } = svc as ServiceShape;
  if (spec?.type === 'LoadBalancer') {
    const out: GatewayAddress[] = [];
    for (const i of status?.loadBalancer?.ingress ?? []) {
      if (i.ip) out.push({ type: 'IPAddress', value: i.ip });
      else if (i.hostname) out.push({ type: 'Hostname', value: i.hostname });
    }
    return out;
  }
  const ips = spec?.clusterIPs?.length ? spec.clusterIPs : spec?.clusterIP ? [spec.clusterIP] : [];
  return ips.filter((ip) => ip && ip !== 'None').map((value) => ({ type: 'IPAddress', value }));
}

/** The addresses of the Services one installation owns, by fleet. */
export class AddressBook {
  /** fleet label → `namespace/name` → (node group, addresses). */
  private readonly byFleet = new Map<
    string,
    Map<string, { order: string; addrs: GatewayAddress[] }>
  >();
  /** `namespace/name` → fleet label, to drop a Service that moved or went. */
  private readonly fleetOf = new Map<string, string>();

  constructor(private readonly controllerNamespace: string) {}

  /** Records a Service (or forgets it: `gone`, or not one of ours). */
  update(svc: KubeObject, gone = false): void {
    const md = svc.metadata ?? {};
    const key = `${md.namespace ?? ''}/${md.name ?? ''}`;
    const labels = md.labels ?? {};
    const fleet = labels[Label.Fleet];
    const ours =
      labels[Label.ManagedBy] === MANAGED_BY &&
      labels[Label.ControllerNamespace] === this.controllerNamespace &&
      fleet !== undefined;
    this.forget(key);
    if (gone || !ours) return;
    let services = this.byFleet.get(fleet);
    if (!services) this.byFleet.set(fleet, (services = new Map()));
    services.set(key, {
      order: `${md.annotations?.[Annotation.NodeGroup] ?? ''}\u0000${key}`,
      addrs: serviceAddresses(svc),
    });
    this.fleetOf.set(key, fleet);
  }

  forget(key: string): void {
    const fleet = this.fleetOf.get(key);
    if (fleet === undefined) return;
    this.fleetOf.delete(key);
    const services = this.byFleet.get(fleet);
    services?.delete(key);
    if (services?.size === 0) this.byFleet.delete(fleet);
  }

  addressesOf(fleetName: string): GatewayAddress[] {
    const services = this.byFleet.get(fleetLabel(fleetName));
    if (!services) return [];
    const seen = new Set<string>();
    const out: GatewayAddress[] = [];
    for (const s of [...services.values()].sort((a, b) => (a.order < b.order ? -1 : 1)))
      for (const a of s.addrs) {
        const k = `${a.type}/${a.value}`;
        if (seen.has(k)) continue;
        seen.add(k);
        out.push(a);
      }
    return out;
  }
}

/**
 * What a fleet's Service asks for: the first non-empty requested value
 * (`wanted`); a Service takes one such address, so the other non-empty values
 * (`extra`) cannot be had. An empty value asks for any address.
 */
export function addressRequest(requested: readonly FleetAddress[]): {
  wanted?: string;
  extra: string[];
} {
  const [wanted, ...extra] = requested.map((a) => a.value).filter((v) => v !== '');
  return wanted === undefined ? { extra } : { wanted, extra };
}

export interface AddressProblem {
  reason: typeof Reason.AddressNotUsable | typeof Reason.AddressNotAssigned;
  message: string;
}

/**
 * Why the requested addresses are not (yet) the fleet's, or undefined when
 * they are (or none were requested). `assigned`: what the fleet's Services
 * got (AddressBook.addressesOf).
 * - AddressNotUsable: more than one value requested (a Service takes one), or
 *   the Service got addresses but not the requested one (the infrastructure
 *   could not use it: outside its pool, or taken).
 * - AddressNotAssigned: the Service has no address yet.
 */
export function requestedAddressProblem(
  requested: readonly FleetAddress[],
  assigned: readonly GatewayAddress[],
): AddressProblem | undefined {
  if (requested.length === 0) return undefined;
  const { wanted, extra } = addressRequest(requested);
  if (extra.length > 0) {
    return {
      reason: Reason.AddressNotUsable,
      message: `${extra.join(', ')} cannot be assigned: the Gateway's Service takes one requested address (${wanted}); request a single address`,
    };
  }
  if (assigned.length === 0) {
    return {
      reason: Reason.AddressNotAssigned,
      message: `waiting for the infrastructure to assign ${wanted ?? 'an address'} to the Gateway's Service`,
    };
  }
  if (wanted !== undefined && !assigned.some((a) => sameAddress(a.value, wanted))) {
    return {
      reason: Reason.AddressNotUsable,
      message: `${wanted} was requested but the infrastructure assigned ${assigned.map((a) => a.value).join(', ')}: it cannot use ${wanted} (outside its address pool, or taken); request a usable address or leave the value empty`,
    };
  }
  return undefined;
}

/** IPv6 addresses compare in canonical form (an IPv4 address is its own). */
function sameAddress(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return new URL(`http://[${a}]/`).hostname === new URL(`http://[${b}]/`).hostname;
  } catch {
    return false;
  }
}
