// Client certificate validation of HTTPS listeners (Gateway
// spec.tls.frontend): the configuration for a listener's port (perPort, else
// default), its caCertificateRefs resolved to PEM CA certificates, and the
// listener's conditions per the API's rules:
// - a ref of another kind than core ConfigMap: ResolvedRefs=False
//   InvalidCACertificateKind;
// - a ref to another namespace without a ReferenceGrant: RefNotPermitted;
// - a ConfigMap that is missing, has no `ca.crt`, or whose `ca.crt` holds no
//   PEM certificate: InvalidCACertificateRef;
// - no valid ref at all: also Accepted=False NoValidCACertificate (the
//   listener is not served: serving it without validation would let in
//   clients the Gateway meant to refuse).
// Valid refs are used even when others are not (the message names the bad
// ones). HTTP listeners are never affected.
import { X509Certificate } from 'node:crypto';
import type { ConfigMap, FrontendTLSValidation, Gateway } from '../apis/types.js';
import { GATEWAY_GROUP } from '../apis/types.js';
import type { ClientValidation } from '../ir/types.js';
import { key } from './input.js';
import type { ListenerState } from './listeners.js';
import { Reason } from './reasons.js';
import type { ReferenceGrants } from './refgrants.js';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The validation that applies to HTTPS listeners on `port`: perPort wins over default. */
export function frontendValidation(
  gateway: Gateway,
  port: number,
): FrontendTLSValidation | undefined {
  const frontend = gateway.spec.tls?.frontend;
  if (!frontend) return undefined;
  const perPort = frontend.perPort?.find((p) => p.port === port);
  return perPort ? perPort.tls.validation : frontend.default.validation;
}

/** True when any validation of the Gateway (default or per port) is AllowInsecureFallback. */
export function allowsInsecureFallback(gateway: Gateway): boolean {
  const frontend = gateway.spec.tls?.frontend;
  if (!frontend) return false;
  return [frontend.default, ...(frontend.perPort ?? []).map((p) => p.tls)].some(
    (t) => t.validation?.mode === 'AllowInsecureFallback',
  );
}

/** Resolves the listener's client validation into `l.clientValidation`, or its problems. */
export function resolveClientValidation(
  l: ListenerState,
  gwNs: string,
  configMaps: ReadonlyMap<string, ConfigMap>,
  grants: ReferenceGrants,
): void {
  if (l.protocol !== 'HTTPS' || l.rejected) return;
  const validation = frontendValidation(l.gateway, l.port);
  if (!validation) return;
  const cas: string[] = [];
  for (const ref of validation.caCertificateRefs) {
    const group = ref.group ?? '';
    const ns = ref.namespace ?? gwNs;
    const where = `caCertificateRef ${group === '' ? 'core' : group}/${ref.kind} ${ns}/${ref.name}`;
    if (group !== '' || ref.kind !== 'ConfigMap') {
      l.refProblems.push({
        reason: Reason.InvalidCACertificateKind,
        message: `${where}: only core ConfigMaps (key ca.crt) can hold CA certificates`,
      });
      continue;
    }
    const allowed = grants.allowed(
      { group: GATEWAY_GROUP, kind: 'Gateway', namespace: gwNs },
      { group: '', kind: 'ConfigMap', namespace: ns, name: ref.name },
    );
    if (!allowed) {
      l.refProblems.push({
        reason: Reason.RefNotPermitted,
        message: `${where}: no ReferenceGrant in namespace ${ns} allows Gateways from ${gwNs} to reference it`,
      });
      continue;
    }
    const problem = caProblem(configMaps.get(key(ns, ref.name)));
    if (typeof problem === 'string') {
      l.refProblems.push({
        reason: Reason.InvalidCACertificateRef,
        message: `${where}: ${problem}`,
      });
      continue;
    }
    cas.push(...problem.pems);
  }
  if (cas.length === 0) {
    l.rejected = {
      reason: Reason.NoValidCACertificate,
      message: `no valid CA certificate for client certificate validation on port ${l.port}`,
    };
    return;
  }
  const out: ClientValidation = {
    caCertificates: cas.join('\n') + '\n',
    mode: validation.mode === 'AllowInsecureFallback' ? 'AllowInsecureFallback' : 'AllowValidOnly',
  };
  l.clientValidation = out;
}

/** Parsed bundles by content: the same ConfigMap is read on every translation. */
const parsed = new Map<string, string | { pems: string[] }>();
const PARSED_LIMIT = 1_000;

/** The ConfigMap's CA certificates, or why it has none usable. */
export function caProblem(cm: ConfigMap | undefined): string | { pems: string[] } {
  if (!cm) return 'ConfigMap not found';
  const bundle = cm.data?.['ca.crt'];
  if (typeof bundle !== 'string') return 'ConfigMap has no ca.crt';
  let result = parsed.get(bundle);
  if (result === undefined) {
    result = parseBundle(bundle);
    if (parsed.size >= PARSED_LIMIT) parsed.clear();
    parsed.set(bundle, result);
  }
  return result;
}

function parseBundle(bundle: string): string | { pems: string[] } {
  const pems = bundle.match(PEM_CERTIFICATE) ?? [];
  if (pems.length === 0) return 'ca.crt holds no PEM certificate';
  for (const pem of pems) {
    try {
      new X509Certificate(pem);
    } catch {
      return 'ca.crt holds a certificate that cannot be parsed';
    }
  }
  return { pems };
}
