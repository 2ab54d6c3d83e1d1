// The client certificate a Gateway presents to backends it reaches over TLS
// (Gateway spec.tls.backend.clientCertificateRef), resolved per the API's rules
// into the Gateway's ResolvedRefs condition:
// - a ref that is not a core Secret, a Secret that is missing, not of type
//   kubernetes.io/tls, without tls.crt/tls.key, or whose key does not match its
//   certificate: ResolvedRefs=False InvalidClientCertificateRef;
// - a ref to another namespace without a ReferenceGrant: RefNotPermitted
//   (checked before the Secret is looked at, so nothing about it leaks).
// The condition exists only while the Gateway has a clientCertificateRef; it
// never changes Accepted or Programmed. An invalid ref means no certificate is
// presented (TLS to backends still follows their BackendTLSPolicies).
import type { Gateway, Secret } from '../apis/types.js';
import { GATEWAY_GROUP } from '../apis/types.js';
import type { TlsSecret } from '../ir/types.js';
import { checkTlsSecret } from './certificates.js';
import { key } from './input.js';
import { ConditionType, Reason, cond, type ConditionDecision } from './reasons.js';
import type { ReferenceGrants } from './refgrants.js';

const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';

export type BackendClientCertificate =
  { certificate: TlsSecret } | { problem: { reason: string; message: string } };

/** The Gateway's backend client certificate, or undefined when it references none. */
export function resolveBackendClientCertificate(
  gateway: Gateway,
  secrets: ReadonlyMap<string, Secret>,
  grants: ReferenceGrants,
): BackendClientCertificate | undefined {
  const ref = gateway.spec.tls?.backend?.clientCertificateRef;
  if (!ref) return undefined;
  const gwNs = gateway.metadata.namespace ?? 'default';
  const group = ref.group ?? '';
  const kind = ref.kind ?? 'Secret';
  const ns = ref.namespace ?? gwNs;
  const where = `clientCertificateRef ${group === '' ? 'core' : group}/${kind} ${ns}/${ref.name}`;
  const invalid = (message: string): BackendClientCertificate => ({
    problem: { reason: Reason.InvalidClientCertificateRef, message: `${where}: ${message}` },
  });
  if (group !== '' || kind !== 'Secret') return invalid('only core Secrets can hold certificates');
  const allowed = grants.allowed(
    { group: GATEWAY_GROUP, kind: 'Gateway', namespace: gwNs },
    { group: '', kind: 'Secret', namespace: ns, name: ref.name },
  );
  if (!allowed) {
    return {
      problem: {
        reason: Reason.RefNotPermitted,
        message: `${where}: no ReferenceGrant in namespace ${ns} allows Gateways from ${gwNs} to reference it`,
      },
    };
  }
  const secret = secrets.get(key(ns, ref.name));
  if (!secret) return invalid('Secret not found (only Secrets of type kubernetes.io/tls are read)');
  if (secret.metadata.labels?.[MANAGED_BY_LABEL] === 'gatefleet') {
    // A fleet's xDS client certificate: presenting it would hand its key to another fleet.
    return invalid(`Secret is gatefleet's own credential (label ${MANAGED_BY_LABEL}: gatefleet)`);
  }
  const check = checkTlsSecret(secret);
  if (!check.ok) return invalid(check.problem);
  return {
    certificate: {
      name: key(ns, ref.name),
      certificateChain: check.certificateChain,
      privateKey: check.privateKey,
    },
  };
}

/**
 * The Gateway's ResolvedRefs condition, present only with a clientCertificateRef.
 * `presented` is the certificate its fleet presents (another Gateway's, in a
 * merged fleet whose first Gateway with a valid one is not this one).
 */
export function backendClientCondition(
  c: BackendClientCertificate | undefined,
  presented: string | undefined,
): ConditionDecision | undefined {
  if (!c) return undefined;
  if ('problem' in c) {
    return cond(ConditionType.ResolvedRefs, 'False', c.problem.reason, c.problem.message);
  }
  const own = c.certificate.name;
  const message =
    presented === undefined || presented === own
      ? `backend client certificate ${own} resolved`
      : `backend client certificate ${own} resolved; the merged fleet presents ${presented} (its first Gateway's in namespace/name order)`;
  return cond(ConditionType.ResolvedRefs, 'True', Reason.ResolvedRefs, message);
}

/**
 * The certificate a fleet presents: the valid one of its first accepted
 * Gateway in namespace/name order that has one (the same order that picks a
 * merged fleet's deployment parameters). Every node group (shard) of the
 * fleet presents it on every TLS cluster.
 */
export function fleetClientCertificate(
  members: readonly { key: string; backendClient?: BackendClientCertificate }[],
): TlsSecret | undefined {
  let best: { key: string; certificate: TlsSecret } | undefined;
  for (const m of members) {
    const c = m.backendClient;
    if (c && 'certificate' in c && (!best || m.key < best.key))
      best = { key: m.key, certificate: c.certificate };
  }
  return best?.certificate;
}
