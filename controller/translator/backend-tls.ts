// BackendTLSPolicy: which Service ports gateways reach over TLS, and each
// policy's status. Rules (the API's, apis/v1 backendtlspolicy_types.go):
// - a policy applies to the Service ports its targetRefs name: with a
//   sectionName, the port of that name; without, every port no sectioned
//   policy claims;
// - policies with the same target conflict: the oldest (creationTimestamp,
//   then namespace/name) wins, the others get Accepted=False Conflicted and
//   are not applied there;
// - caCertificateRefs must be core ConfigMaps (else ResolvedRefs=False
//   InvalidKind) holding PEM certificates in `ca.crt` (else
//   InvalidCACertificateRef); with no valid CA at all the policy is also
//   Accepted=False NoValidCACertificate, and its Service port gets no
//   endpoints: requests answer 503 rather than go out in plain text or over
//   unverified TLS;
// - wellKnownCACertificates `System` trusts the gateway's system roots; any
//   other value is Accepted=False Invalid, handled like no valid CA;
// - subjectAltNames, when set, replace the hostname check (the hostname is
//   then only sent as SNI).
// Ancestors are the Gateways with an accepted route using the Service.
import type {
  BackendTLSPolicy,
  BackendTLSPolicyStatus,
  ConfigMap,
  PolicyAncestorStatus,
  Service,
} from '../apis/types.js';
import { GATEWAY_GROUP } from '../apis/types.js';
import type { UpstreamTls } from '../ir/types.js';
import { caProblem } from './client-validation.js';
import { mergeConditions, type StatusClock } from './conditions.js';
import { key } from './input.js';
import { cond, ConditionType, CONTROLLER_NAME, Reason, type ConditionDecision } from './reasons.js';

/** A policy as decided: what it gives its targets and its conditions. */
interface PolicyState {
  key: string;
  policy: BackendTLSPolicy;
  /** Undefined when the policy has no usable CA: its targets get no endpoints. */
  tls: UpstreamTls | undefined;
  conditions: ConditionDecision[];
}

export interface BackendTlsIndex {
  /**
   * What applies to a Service port: undefined (plain text), the TLS to use,
   * or `refused` (the winning policy is invalid: no traffic).
   */
  forPort(service: Service | undefined, ns: string, name: string, port: number): PortTls;
  /** The policies' statuses, given the Gateways using each Service (`ns/name`). */
  statuses(
    gatewaysByService: ReadonlyMap<string, ReadonlySet<string>>,
    clock: StatusClock,
  ): { namespace: string; name: string; status: BackendTLSPolicyStatus }[];
}

export type PortTls = undefined | { tls: UpstreamTls } | { refused: string };

const OWNED: ReadonlySet<string> = new Set([ConditionType.Accepted, ConditionType.ResolvedRefs]);

function targetKey(ns: string, service: string, section: string): string {
  return `${ns}/${service}/${section}`;
}

export function resolveBackendTls(
  policies: ReadonlyMap<string, BackendTLSPolicy>,
  configMaps: ReadonlyMap<string, ConfigMap>,
): BackendTlsIndex {
  const states: PolicyState[] = [...policies]
    .map(([k, p]) => decide(k, p, configMaps))
    .sort(olderFirst);
  // Winner per target, oldest first; losers are Conflicted.
  const winners = new Map<string, PolicyState>();
  const conflicted = new Map<PolicyState, string>();
  for (const st of states) {
    const ns = st.policy.metadata.namespace ?? 'default';
    for (const t of st.policy.spec.targetRefs) {
      if ((t.group ?? '') !== '' || t.kind !== 'Service') continue;
      const tk = targetKey(ns, t.name, t.sectionName ?? '');
      const w = winners.get(tk);
      if (!w) winners.set(tk, st);
      else if (w !== st && !conflicted.has(st)) conflicted.set(st, w.key);
    }
  }
  for (const [st, winner] of conflicted) {
    const accepted = st.conditions.findIndex((c) => c.type === ConditionType.Accepted);
    st.conditions[accepted] = cond(
      ConditionType.Accepted,
      'False',
      Reason.Conflicted,
      `conflicts with the older BackendTLSPolicy ${winner} for the same target`,
    );
  }
  return {
    forPort(service, ns, name, port) {
      if (winners.size === 0) return undefined;
      const portName = service?.spec?.ports?.find((p) => p.port === port)?.name;
      const st =
        (portName ? winners.get(targetKey(ns, name, portName)) : undefined) ??
        winners.get(targetKey(ns, name, ''));
      if (!st) return undefined;
      return st.tls ? { tls: st.tls } : { refused: st.key };
    },
    statuses(gatewaysByService, clock) {
      const out: { namespace: string; name: string; status: BackendTLSPolicyStatus }[] = [];
      for (const st of [...states].sort((a, b) => (a.key < b.key ? -1 : 1))) {
        const p = st.policy;
        const ns = p.metadata.namespace ?? 'default';
        const gateways = new Set<string>();
        for (const t of p.spec.targetRefs) {
          if ((t.group ?? '') !== '' || t.kind !== 'Service') continue;
          for (const g of gatewaysByService.get(key(ns, t.name)) ?? []) gateways.add(g);
        }
        const live = p.status?.ancestors ?? [];
        const hadOurs = live.some((a) => a.controllerName === CONTROLLER_NAME);
        if (gateways.size === 0 && !hadOurs) continue;
        const ancestors: PolicyAncestorStatus[] = live.filter(
          (a) => a.controllerName !== CONTROLLER_NAME,
        );
        for (const g of [...gateways].sort()) {
          const [gns, gname] = g.split('/') as [string, string];
          const prev = live.find(
            (a) =>
              a.controllerName === CONTROLLER_NAME &&
              a.ancestorRef.name === gname &&
              (a.ancestorRef.namespace ?? ns) === gns,
          );
          ancestors.push({
            ancestorRef: { group: GATEWAY_GROUP, kind: 'Gateway', namespace: gns, name: gname },
            controllerName: CONTROLLER_NAME,
            conditions: mergeConditions(
              prev?.conditions,
              st.conditions,
              OWNED,
              p.metadata.generation ?? 1,
              clock,
            ),
          });
        }
        out.push({ namespace: ns, name: p.metadata.name, status: { ...p.status, ancestors } });
      }
      return out;
    },
  };
}

function olderFirst(a: PolicyState, b: PolicyState): number {
  const ta = a.policy.metadata.creationTimestamp ?? '';
  const tb = b.policy.metadata.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

function decide(
  k: string,
  p: BackendTLSPolicy,
  configMaps: ReadonlyMap<string, ConfigMap>,
): PolicyState {
  const ns = p.metadata.namespace ?? 'default';
  const v = p.spec.validation;
  const refProblems: { reason: string; message: string }[] = [];
  const pems: string[] = [];
  for (const ref of v.caCertificateRefs ?? []) {
    const where = `caCertificateRef ${ref.group === '' ? 'core' : ref.group}/${ref.kind} ${ns}/${ref.name}`;
    if ((ref.group ?? '') !== '' || ref.kind !== 'ConfigMap') {
      refProblems.push({
        reason: Reason.InvalidKind,
        message: `${where}: only core ConfigMaps (key ca.crt) can hold CA certificates`,
      });
      continue;
    }
    const r = caProblem(configMaps.get(key(ns, ref.name)));
    if (typeof r === 'string') {
      refProblems.push({ reason: Reason.InvalidCACertificateRef, message: `${where}: ${r}` });
      continue;
    }
    pems.push(...r.pems);
  }
  const wellKnown = v.wellKnownCACertificates;
  const badWellKnown = wellKnown !== undefined && wellKnown !== 'System';
  const systemRoots = wellKnown === 'System';
  const resolved =
    refProblems.length === 0
      ? cond(ConditionType.ResolvedRefs, 'True', Reason.ResolvedRefs, 'all references resolved')
      : cond(
          ConditionType.ResolvedRefs,
          'False',
          refProblems[0]!.reason,
          refProblems.map((r) => r.message).join('; '),
        );
  let accepted: ConditionDecision;
  let tls: UpstreamTls | undefined;
  if (badWellKnown) {
    accepted = cond(
      ConditionType.Accepted,
      'False',
      Reason.Invalid,
      `wellKnownCACertificates ${wellKnown} is not supported (only System)`,
    );
  } else if (pems.length === 0 && !systemRoots) {
    accepted = cond(
      ConditionType.Accepted,
      'False',
      Reason.NoValidCACertificate,
      'no valid CA certificate: requests to the targeted Service ports fail',
    );
  } else {
    accepted = cond(ConditionType.Accepted, 'True', Reason.Accepted, 'policy accepted');
    tls = {
      policy: k,
      sni: v.hostname,
      caCertificates: pems.length === 0 ? '' : pems.join('\n') + '\n',
      systemRoots,
      subjectAltNames: (v.subjectAltNames ?? []).flatMap((s): UpstreamTls['subjectAltNames'] =>
        s.type === 'Hostname' && s.hostname
          ? [{ type: 'Hostname' as const, value: s.hostname }]
          : s.type === 'URI' && s.uri
            ? [{ type: 'URI' as const, value: s.uri }]
            : [],
      ),
    };
  }
  return { key: k, policy: p, tls, conditions: [accepted, resolved] };
}
