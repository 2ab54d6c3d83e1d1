// Listener validation: protocol support, allowed route kinds, TLS certificate
// references, and the distinctness rules between listeners that share a port.
// The result feeds both the Gateway's status and the IR.
import type { ConfigMap, Gateway, Listener, ListenerStatus, Secret } from '../apis/types.js';
import type { ClientValidation, TlsSecret } from '../ir/types.js';
import { GATEWAY_GROUP } from '../apis/types.js';
import { checkTlsSecret } from './certificates.js';
import { resolveClientValidation } from './client-validation.js';

const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
import { covers } from './hostnames.js';
import { Reason, type ConditionDecision, cond, ConditionType } from './reasons.js';
import type { ReferenceGrants } from './refgrants.js';
import { key } from './input.js';

export type RouteGroupKind = ListenerStatus['supportedKinds'] extends (infer T)[] | undefined
  ? T
  : never;

const SUPPORTED_PROTOCOLS = new Set(['HTTP', 'HTTPS']);

/** Route kinds each supported protocol accepts when allowedRoutes.kinds is empty. */
const DEFAULT_KINDS: Record<string, RouteGroupKind[]> = {
  HTTP: [{ group: GATEWAY_GROUP, kind: 'HTTPRoute' }],
  HTTPS: [{ group: GATEWAY_GROUP, kind: 'HTTPRoute' }],
};

export interface ListenerState {
  gatewayKey: string;
  gateway: Gateway;
  spec: Listener;
  name: string;
  port: number;
  protocol: string;
  hostname?: string;
  supportedKinds: RouteGroupKind[];
  /** Accepted=False with this reason and message, when not accepted. */
  rejected?: { reason: string; message: string };
  conflict?: { reason: string; message: string };
  /** ResolvedRefs=False problems, in spec order. */
  refProblems: { reason: string; message: string }[];
  certificates: TlsSecret[];
  /** Client certificate validation for the listener's port (client-validation.ts). */
  clientValidation?: ClientValidation;
  overlappingTls: string[];
  /** Routes attached with Accepted=True, counted by the route stage. */
  attachedRoutes: number;
}

export function allowsKind(l: ListenerState, group: string, kind: string): boolean {
  return l.supportedKinds.some((k) => (k.group ?? GATEWAY_GROUP) === group && k.kind === kind);
}

/** True when the listener generates data plane configuration. */
export function isProgrammable(l: ListenerState): boolean {
  if (l.rejected || l.conflict) return false;
  return l.protocol !== 'HTTPS' || l.certificates.length > 0;
}

export function buildListeners(
  gateway: Gateway,
  secrets: ReadonlyMap<string, Secret>,
  grants: ReferenceGrants,
  configMaps: ReadonlyMap<string, ConfigMap> = new Map(),
): ListenerState[] {
  const gwNs = gateway.metadata.namespace ?? 'default';
  const gatewayKey = key(gwNs, gateway.metadata.name);
  return (gateway.spec.listeners ?? []).map((spec) => {
    const l: ListenerState = {
      gatewayKey,
      gateway,
      spec,
      name: String(spec.name),
      port: Number(spec.port),
      protocol: String(spec.protocol),
      ...(spec.hostname ? { hostname: spec.hostname.toLowerCase() } : {}),
      supportedKinds: [],
      refProblems: [],
      certificates: [],
      overlappingTls: [],
      attachedRoutes: 0,
    };
    resolveKinds(l);
    if (!SUPPORTED_PROTOCOLS.has(l.protocol)) {
      l.rejected = {
        reason: Reason.UnsupportedProtocol,
        message: `protocol ${l.protocol} is not supported; gatefleet serves HTTP and HTTPS listeners`,
      };
    } else if (l.protocol === 'HTTPS') {
      resolveCertificates(l, gwNs, secrets, grants);
      resolveClientValidation(l, gwNs, configMaps, grants);
    }
    return l;
  });
}

function resolveKinds(l: ListenerState): void {
  const defaults = DEFAULT_KINDS[l.protocol] ?? [];
  const requested = l.spec.allowedRoutes?.kinds;
  if (!requested || requested.length === 0) {
    l.supportedKinds = defaults.map((k) => ({ ...k }));
    return;
  }
  const invalid: string[] = [];
  for (const k of requested) {
    const group = k.group ?? GATEWAY_GROUP;
    const ok = defaults.some((d) => d.group === group && d.kind === k.kind);
    if (ok) {
      if (!l.supportedKinds.some((s) => s.group === group && s.kind === k.kind))
        l.supportedKinds.push({ group, kind: k.kind });
    } else invalid.push(`${group}/${k.kind}`);
  }
  if (invalid.length > 0) {
    l.refProblems.push({
      reason: Reason.InvalidRouteKinds,
      message: `route kinds not supported on a ${l.protocol} listener: ${invalid.join(', ')}`,
    });
  }
}

function resolveCertificates(
  l: ListenerState,
  gwNs: string,
  secrets: ReadonlyMap<string, Secret>,
  grants: ReferenceGrants,
): void {
  const tls = l.spec.tls;
  if (tls?.mode !== undefined && tls.mode !== 'Terminate') {
    l.rejected = {
      reason: Reason.UnsupportedValue,
      message: `TLS mode ${tls.mode} is not supported on an HTTPS listener; use Terminate`,
    };
    return;
  }
  const refs = tls?.certificateRefs ?? [];
  if (refs.length === 0) {
    l.refProblems.push({
      reason: Reason.InvalidCertificateRef,
      message: 'an HTTPS listener needs at least one tls.certificateRefs entry',
    });
    return;
  }
  for (const ref of refs) {
    const group = ref.group ?? '';
    const kind = ref.kind ?? 'Secret';
    const ns = ref.namespace ?? gwNs;
    const where = `certificateRef ${group === '' ? 'core' : group}/${kind} ${ns}/${ref.name}`;
    if (group !== '' || kind !== 'Secret') {
      l.refProblems.push({
        reason: Reason.InvalidCertificateRef,
        message: `${where}: only core Secrets can hold certificates`,
      });
      continue;
    }
    const allowed = grants.allowed(
      { group: GATEWAY_GROUP, kind: 'Gateway', namespace: gwNs },
      { group: '', kind: 'Secret', namespace: ns, name: ref.name },
    );
    if (!allowed) {
      l.refProblems.push({
        reason: Reason.RefNotPermitted,
        message: `${where}: no ReferenceGrant in namespace ${ns} allows Gateways from ${gwNs} to reference it`,
      });
      continue;
    }
    const secret = secrets.get(key(ns, ref.name));
    if (!secret) {
      l.refProblems.push({
        reason: Reason.InvalidCertificateRef,
        message: `${where}: Secret not found`,
      });
      continue;
    }
    if (secret.metadata.labels?.[MANAGED_BY_LABEL] === 'gatefleet') {
      // gatefleet's own credentials (a fleet's xDS client certificate): serving
      // one would hand its key, over xDS, to another fleet's gateways — which
      // could then claim that fleet's identity to the controller.
      l.refProblems.push({
        reason: Reason.InvalidCertificateRef,
        message: `${where}: Secret is gatefleet's own credential (label ${MANAGED_BY_LABEL}: gatefleet) and cannot serve a listener`,
      });
      continue;
    }
    const check = checkTlsSecret(secret);
    if (!check.ok) {
      l.refProblems.push({
        reason: Reason.InvalidCertificateRef,
        message: `${where}: ${check.problem}`,
      });
      continue;
    }
    l.certificates.push({
      name: key(ns, ref.name),
      certificateChain: check.certificateChain,
      privateKey: check.privateKey,
    });
  }
}

/**
 * Applies the distinctness rules to a set of listeners that share data plane
 * addresses (one Gateway, or several merged onto one fleet): listeners on one
 * port must share a protocol, and HTTP/HTTPS listeners on one port must have
 * different hostnames. No conflicting listener is picked as a winner.
 * Listeners with unsupported protocols are not accepted and so take no part.
 */
export function detectConflicts(listeners: readonly ListenerState[]): void {
  const byPort = new Map<number, ListenerState[]>();
  for (const l of listeners) {
    if (l.rejected) continue;
    const list = byPort.get(l.port);
    if (list) list.push(l);
    else byPort.set(l.port, [l]);
  }
  for (const [port, group] of byPort) {
    const protocols = new Set(group.map((l) => l.protocol));
    if (protocols.size > 1) {
      const list = [...protocols].sort().join(', ');
      for (const l of group) {
        l.conflict = {
          reason: Reason.ProtocolConflict,
          message: `port ${port} is used with different protocols (${list})`,
        };
      }
      continue;
    }
    const byHost = new Map<string, ListenerState[]>();
    for (const l of group) {
      const h = l.hostname ?? '';
      const list = byHost.get(h);
      if (list) list.push(l);
      else byHost.set(h, [l]);
    }
    for (const [host, same] of byHost) {
      if (same.length < 2) continue;
      const names = same.map(listenerId).join(', ');
      for (const l of same) {
        l.conflict = {
          reason: Reason.HostnameConflict,
          message: `listeners ${names} share port ${port} and ${host === '' ? 'have no hostname' : `hostname ${host}`}`,
        };
      }
    }
    if (protocols.has('HTTPS')) markOverlappingTls(group.filter((l) => !l.conflict));
  }
}

function markOverlappingTls(group: readonly ListenerState[]): void {
  for (const a of group) {
    for (const b of group) {
      if (a === b) continue;
      const ha = a.hostname ?? '*';
      const hb = b.hostname ?? '*';
      if (covers(ha, hb) || covers(hb, ha)) a.overlappingTls.push(listenerId(b));
    }
  }
}

export function listenerId(l: ListenerState): string {
  return `${l.gatewayKey}/${l.name}`;
}

/** The listener's conditions, in a fixed order. */
export function listenerConditions(
  l: ListenerState,
  gatewayRejected?: string,
): ConditionDecision[] {
  const out: ConditionDecision[] = [];
  if (l.conflict) {
    out.push(cond(ConditionType.Conflicted, 'True', l.conflict.reason, l.conflict.message));
    out.push(cond(ConditionType.Accepted, 'False', l.conflict.reason, l.conflict.message));
  } else {
    out.push(cond(ConditionType.Conflicted, 'False', Reason.NoConflicts, 'no conflicts'));
    if (l.rejected) {
      out.push(cond(ConditionType.Accepted, 'False', l.rejected.reason, l.rejected.message));
    } else {
      out.push(cond(ConditionType.Accepted, 'True', Reason.Accepted, 'listener accepted'));
    }
  }
  const first = l.refProblems[0];
  if (first) {
    const message = l.refProblems.map((p) => p.message).join('; ');
    out.push(cond(ConditionType.ResolvedRefs, 'False', first.reason, message));
  } else {
    out.push(
      cond(ConditionType.ResolvedRefs, 'True', Reason.ResolvedRefs, 'all references resolved'),
    );
  }
  if (isProgrammable(l) && gatewayRejected === undefined) {
    out.push(cond(ConditionType.Programmed, 'True', Reason.Programmed, 'listener programmed'));
  } else if (isProgrammable(l)) {
    out.push(
      cond(
        ConditionType.Programmed,
        'False',
        Reason.Invalid,
        `Gateway not accepted: ${gatewayRejected}`,
      ),
    );
  } else {
    const why = l.conflict?.message ?? l.rejected?.message ?? 'no valid TLS certificate';
    out.push(cond(ConditionType.Programmed, 'False', Reason.Invalid, why));
  }
  if (l.overlappingTls.length > 0) {
    out.push(
      cond(
        ConditionType.OverlappingTLSConfig,
        'True',
        Reason.OverlappingHostnames,
        `hostname overlaps with HTTPS listeners ${l.overlappingTls.join(', ')} on port ${l.port}`,
      ),
    );
  }
  return out;
}

export const LISTENER_CONDITION_TYPES: ReadonlySet<string> = new Set([
  ConditionType.Conflicted,
  ConditionType.Accepted,
  ConditionType.ResolvedRefs,
  ConditionType.Programmed,
  ConditionType.OverlappingTLSConfig,
]);
