// Route attachment: which listeners of a parent Gateway accept an HTTPRoute,
// per parentRef. Attachment depends only on the parentRef (sectionName, port),
// the listener's allowedRoutes (kinds and namespaces) and the hostname
// intersection; never on whether the listener itself is valid.
import type { Gateway, Namespace, ParentReference } from '../../apis/types.js';
import { GATEWAY_GROUP } from '../../apis/types.js';
import { routeHostsOnListener, type RouteHost } from '../hostnames.js';
import { allowsKind, type ListenerState } from '../listeners.js';
import { Reason } from '../reasons.js';
import { selectorMatches, type LabelSelector } from '../selectors.js';
import { problem, type Problem } from './problems.js';

export interface NormalizedParentRef {
  group: string;
  kind: string;
  namespace: string;
  name: string;
  sectionName?: string;
  port?: number;
}

export interface Attachment {
  listener: ListenerState;
  /** The hostnames the route serves on this listener. */
  hosts: RouteHost[];
}

export type ParentOutcome =
  { accepted: true; attachments: Attachment[] } | { accepted: false; problem: Problem };

export function normalizeParentRef(
  ref: ParentReference,
  routeNamespace: string,
): NormalizedParentRef {
  const out: NormalizedParentRef = {
    group: ref.group ?? GATEWAY_GROUP,
    kind: ref.kind ?? 'Gateway',
    namespace: ref.namespace ?? routeNamespace,
    name: ref.name,
  };
  if (ref.sectionName !== undefined) out.sectionName = ref.sectionName;
  if (ref.port !== undefined) out.port = ref.port;
  return out;
}

const METADATA_NAME_LABEL = 'kubernetes.io/metadata.name';

/** A namespace's labels, including the name label the API server always adds. */
export function namespaceLabels(
  namespaces: ReadonlyMap<string, Namespace>,
  name: string,
): Record<string, string> {
  let perTranslation = labelCache.get(namespaces);
  if (!perTranslation) labelCache.set(namespaces, (perTranslation = new Map()));
  let labels = perTranslation.get(name);
  if (!labels) {
    labels = { ...(namespaces.get(name)?.metadata.labels ?? {}), [METADATA_NAME_LABEL]: name };
    perTranslation.set(name, labels);
  }
  return labels;
}

/** Namespace labels per input index (one per translation), computed once per namespace. */
const labelCache = new WeakMap<
  ReadonlyMap<string, Namespace>,
  Map<string, Record<string, string>>
>();

export function attachToGateway(
  ref: NormalizedParentRef,
  gateway: Gateway,
  listeners: readonly ListenerState[],
  routeNamespace: string,
  routeHostnames: readonly string[],
  namespaces: ReadonlyMap<string, Namespace>,
): ParentOutcome {
  const selected = listeners.filter(
    (l) =>
      (ref.sectionName === undefined || l.name === ref.sectionName) &&
      (ref.port === undefined || l.port === ref.port),
  );
  if (selected.length === 0) {
    const what = [
      ref.sectionName === undefined ? undefined : `named ${ref.sectionName}`,
      ref.port === undefined ? undefined : `on port ${ref.port}`,
    ]
      .filter(Boolean)
      .join(' and ');
    return {
      accepted: false,
      problem: problem(
        Reason.NoMatchingParent,
        `Gateway ${ref.namespace}/${ref.name} has no listener ${what}`,
      ),
    };
  }
  const gwNs = gateway.metadata.namespace ?? 'default';
  const attachments: Attachment[] = [];
  const refusals: string[] = [];
  let hostnameOnly = 0;
  for (const l of selected) {
    if (!allowsKind(l, GATEWAY_GROUP, 'HTTPRoute')) {
      refusals.push(`listener ${l.name} does not allow HTTPRoute`);
      continue;
    }
    const nsProblem = namespaceRefusal(l, gwNs, routeNamespace, namespaces);
    if (nsProblem) {
      refusals.push(`listener ${l.name} ${nsProblem}`);
      continue;
    }
    const hosts = routeHostsOnListener(l.hostname, routeHostnames);
    if (hosts.length === 0) {
      hostnameOnly++;
      refusals.push(
        `listener ${l.name} hostname ${l.hostname} matches none of the route's hostnames`,
      );
      continue;
    }
    attachments.push({ listener: l, hosts });
  }
  if (attachments.length > 0) return { accepted: true, attachments };
  const reason =
    hostnameOnly > 0 ? Reason.NoMatchingListenerHostname : Reason.NotAllowedByListeners;
  return { accepted: false, problem: problem(reason, refusals.join('; ')) };
}

function namespaceRefusal(
  l: ListenerState,
  gatewayNamespace: string,
  routeNamespace: string,
  namespaces: ReadonlyMap<string, Namespace>,
): string | undefined {
  const from = l.spec.allowedRoutes?.namespaces?.from ?? 'Same';
  switch (from) {
    case 'All':
      return undefined;
    case 'Same':
      return routeNamespace === gatewayNamespace
        ? undefined
        : `allows routes only from namespace ${gatewayNamespace}`;
    case 'Selector': {
      const selector = l.spec.allowedRoutes?.namespaces?.selector as LabelSelector | undefined;
      if (!selector) return 'has a Selector without a selector';
      return selectorMatches(selector, namespaceLabels(namespaces, routeNamespace))
        ? undefined
        : `does not select namespace ${routeNamespace}`;
    }
    default:
      return `allows routes from ${String(from)}, which admits no HTTPRoute namespace`;
  }
}
