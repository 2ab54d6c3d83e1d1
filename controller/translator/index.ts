// translate(): Kubernetes resources in, the fleets' IR and every resource's
// status out. Pure and deterministic: no I/O, and the same input (and clock)
// gives byte-identical output.
//
// The steps read like the pipeline they are:
//   index the input → GatewayClasses → Gateways and their listeners →
//   HTTPRoutes (analyse, attach per parentRef) → attached-route counts →
//   statuses → fleets.
import type {
  BackendTLSPolicyStatus,
  GatewayClassStatus,
  GatewayStatus,
  HTTPRouteStatus,
} from '../apis/types.js';
import type { Diagnostic } from '../errors.js';
import type { IR } from '../ir/types.js';
import { fleetClientCertificate, resolveBackendClientCertificate } from './backend-client-cert.js';
import { resolveBackendTls } from './backend-tls.js';
import { mergeConditions, type StatusClock } from './conditions.js';
import { buildFleet } from './fleets.js';
import {
  fleetConfigReferences,
  fleetConfigStatus,
  type FleetConfigStatus,
} from './fleetconfigs.js';
import { decideGatewayClass, isOurs } from './gatewayclasses.js';
import {
  checkListeners,
  decideGateway,
  gatewayStatus,
  isAccepted,
  type GatewayState,
} from './gateways.js';
import type { FleetParams } from './params.js';
import { indexResources, key, type InputObject } from './input.js';
import { buildListeners, detectConflicts, type ListenerState } from './listeners.js';
import { ConditionType, Reason } from './reasons.js';
import { problem } from './routes/problems.js';
import { ReferenceGrants } from './refgrants.js';
import type { ClusterSpec } from './routes/backends.js';
import { attachToGateway, normalizeParentRef, type ParentOutcome } from './routes/parents.js';
import type { RouteAnalysis } from './routes/rules.js';
import { TranslationMemo } from './memo.js';
import { shardsOf } from './shards.js';
import { routeAccepted, routeStatus, type ParentResult } from './routes/status.js';
import type { AttachedEntry } from './virtualhosts.js';

export { CONTROLLER_NAME } from './reasons.js';
export type { InputObject } from './input.js';
export { TranslationMemo } from './memo.js';

export type StatusUpdate =
  | { kind: 'GatewayClass'; name: string; status: GatewayClassStatus }
  | { kind: 'FleetConfig'; namespace: string; name: string; status: FleetConfigStatus }
  | { kind: 'Gateway'; namespace: string; name: string; status: GatewayStatus }
  | { kind: 'HTTPRoute'; namespace: string; name: string; status: HTTPRouteStatus }
  | { kind: 'BackendTLSPolicy'; namespace: string; name: string; status: BackendTLSPolicyStatus };

export interface TranslateOptions {
  /** Timestamp for conditions whose status changes; defaults to the current time. */
  now?: string;
  /**
   * The previous translation's reusable results (see memo.ts). The output is
   * the same with or without it; a caller translating again and again keeps
   * one and passes it every time.
   */
  memo?: TranslationMemo;
}

export interface TranslateResult {
  ir: IR;
  statuses: StatusUpdate[];
  diagnostics: Diagnostic[];
}

const CLASS_CONDITION_TYPES: ReadonlySet<string> = new Set([
  ConditionType.Accepted,
  ConditionType.SupportedVersion,
]);

/** Current time in the API server's format (seconds precision). */
export function rfc3339Now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function sortedKeys<T>(m: ReadonlyMap<string, T>): string[] {
  return [...m.keys()].sort();
}

/** Wraps plain objects (no source locations) as translator input. */
export function inputsOf(objects: readonly unknown[]): InputObject[] {
  return objects.map((object) => ({ object }));
}

export function translate(
  inputs: readonly InputObject[],
  options: TranslateOptions = {},
): TranslateResult {
  const clock: StatusClock = { now: options.now ?? rfc3339Now() };
  const memo = options.memo ?? new TranslationMemo(true);
  const { resources: rs, diagnostics } = indexResources(inputs);
  const grants = new ReferenceGrants(rs.referenceGrants);
  const backendTls = resolveBackendTls(rs.backendTLSPolicies, rs.configMaps);
  const statuses: StatusUpdate[] = [];

  // GatewayClasses that name gatefleet's controller.
  const classProblems = new Map<string, string | undefined>();
  const classParams = new Map<string, FleetParams | undefined>();
  for (const name of sortedKeys(rs.gatewayClasses)) {
    const gc = rs.gatewayClasses.get(name)!;
    if (!isOurs(gc)) continue;
    const d = decideGatewayClass(gc, rs.crds, rs.fleetConfigs);
    classParams.set(name, d.params);
    const accepted = d.conditions.find((c) => c.type === ConditionType.Accepted)!;
    classProblems.set(
      name,
      d.accepted ? undefined : `GatewayClass ${name} is not accepted: ${accepted.message}`,
    );
    statuses.push({
      kind: 'GatewayClass',
      name,
      status: {
        ...(gc.status ?? {}),
        conditions: mergeConditions(
          gc.status?.conditions,
          d.conditions,
          CLASS_CONDITION_TYPES,
          gc.metadata.generation ?? 1,
          clock,
        ),
        supportedFeatures: d.supportedFeatures,
      },
    });
  }

  // Gateways of those classes, with their parameters and listeners validated.
  // Listeners must be distinct across every Gateway sharing a fleet.
  const gateways = new Map<string, GatewayState>();
  for (const k of sortedKeys(rs.gateways)) {
    const gw = rs.gateways.get(k)!;
    const cls = gw.spec.gatewayClassName;
    if (!classProblems.has(cls)) continue;
    const listeners = buildListeners(gw, rs.secrets, grants, rs.configMaps);
    const state = decideGateway(
      gw,
      listeners,
      classProblems.get(cls),
      classParams.get(cls),
      rs.fleetConfigs,
    );
    const backendClient = resolveBackendClientCertificate(gw, rs.secrets, grants);
    if (backendClient) state.backendClient = backendClient;
    gateways.set(k, state);
  }
  const fleetMembers = new Map<string, GatewayState[]>();
  for (const g of gateways.values()) {
    if (g.rejected) {
      detectConflicts(g.listeners);
      continue;
    }
    const members = fleetMembers.get(g.fleet);
    if (members) members.push(g);
    else fleetMembers.set(g.fleet, [g]);
  }
  for (const members of fleetMembers.values()) detectConflicts(members.flatMap((g) => g.listeners));
  for (const g of gateways.values()) checkListeners(g);
  for (const members of fleetMembers.values()) {
    const presented = fleetClientCertificate(members.filter(isAccepted));
    if (presented) for (const g of members) g.fleetClientCertificate = presented.name;
  }
  const fleetLead = new Map<string, GatewayState>();
  for (const [fleet, members] of fleetMembers) {
    const lead = members.filter(isAccepted).sort((a, b) => (a.key < b.key ? -1 : 1))[0];
    if (lead) fleetLead.set(fleet, lead);
  }

  // HTTPRoutes: analysed once, attached per parentRef.
  const clusterSpecs = new Map<string, ClusterSpec>();
  const entries = new Map<ListenerState, AttachedEntry[]>();
  const counted = new Map<ListenerState, Set<string>>();
  /** Gateways with an accepted route using each Service (`ns/name`): BackendTLSPolicy ancestors. */
  const gatewaysByService = new Map<string, Set<string>>();
  for (const k of sortedKeys(rs.httpRoutes)) {
    const route = rs.httpRoutes.get(k)!;
    const results: ParentResult[] = [];
    let analysis: RouteAnalysis | undefined;
    const seenRefs = new Set<string>();
    for (const pr of route.spec.parentRefs ?? []) {
      const ref = normalizeParentRef(pr, route.metadata.namespace ?? 'default');
      if (ref.group !== 'gateway.networking.k8s.io' || ref.kind !== 'Gateway') continue;
      const g = gateways.get(key(ref.namespace, ref.name));
      if (!g) continue;
      const refId = `${ref.namespace}/${ref.name}/${ref.sectionName ?? ''}/${ref.port ?? ''}`;
      if (seenRefs.has(refId)) continue;
      seenRefs.add(refId);
      analysis ??= memo.analysis(k, route, { services: rs.services, grants });
      let outcome: ParentOutcome = attachToGateway(
        ref,
        g.gateway,
        g.listeners,
        analysis.namespace,
        analysis.hostnames,
        rs.namespaces,
      );
      if (outcome.accepted && g.rejected) {
        outcome = {
          accepted: false,
          problem: problem(
            Reason.GatewayNotAccepted,
            `Gateway ${g.key} is not accepted (${g.rejected.reason}): ${g.rejected.message}`,
          ),
        };
      }
      const result: ParentResult = { ref, outcome };
      // A merged fleet's shards are its lead Gateway's (see buildFleet).
      const shardSpecs = fleetLead.get(g.fleet)?.params.shards ?? g.params.shards ?? [];
      if (shardSpecs.length > 0) {
        result.shards = {
          fleet: g.fleet,
          all: shardSpecs.map((s) => s.name),
          on: shardsOf(shardSpecs, analysis, rs.namespaces),
        };
      }
      results.push(result);
      if (!outcome.accepted || !routeAccepted(analysis, outcome)) continue;
      if (rs.backendTLSPolicies.size > 0)
        for (const c of analysis.clusters) {
          const sk = key(c.service.namespace, c.service.name);
          let gws = gatewaysByService.get(sk);
          if (!gws) gatewaysByService.set(sk, (gws = new Set()));
          gws.add(g.key);
        }
      for (const { listener, hosts } of outcome.attachments) {
        let seen = counted.get(listener);
        if (!seen) counted.set(listener, (seen = new Set()));
        if (seen.has(analysis.key)) continue;
        seen.add(analysis.key);
        listener.attachedRoutes++;
        let list = entries.get(listener);
        if (!list) entries.set(listener, (list = []));
        for (const { host, routeHost } of hosts)
          for (const e of memo.entriesOf(k, host, routeHost)) list.push(e);
      }
    }
    if (!analysis) continue;
    for (const c of analysis.clusters) if (!clusterSpecs.has(c.name)) clusterSpecs.set(c.name, c);
    statuses.push({
      kind: 'HTTPRoute',
      namespace: analysis.namespace,
      name: analysis.name,
      status: routeStatus(route, analysis, results, clock),
    });
  }

  // Gateway statuses (attached route counts are final now) and fleets.
  const ir: IR = { fleets: [] };
  for (const g of gateways.values()) {
    statuses.push({
      kind: 'Gateway',
      namespace: g.gateway.metadata.namespace ?? 'default',
      name: g.gateway.metadata.name,
      status: gatewayStatus(g, clock),
    });
  }
  for (const [name, members] of [...fleetMembers].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const accepted = members.filter(isAccepted);
    if (accepted.length === 0) continue;
    ir.fleets.push(
      buildFleet(name, accepted, {
        entriesOf: (l) => entries.get(l) ?? [],
        clusterSpecs,
        services: rs.services,
        endpointSlices: rs.endpointSlices,
        namespaces: rs.namespaces,
        backendTls,
        memo,
      }),
    );
  }
  ir.fleets.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  // FleetConfigs: valid or not, and who of gatefleet's references them.
  const references = fleetConfigReferences(
    [...classProblems.keys()].map((n) => rs.gatewayClasses.get(n)!),
    [...gateways.values()].map((g) => g.gateway),
  );
  for (const k of sortedKeys(rs.fleetConfigs)) {
    const fc = rs.fleetConfigs.get(k)!;
    statuses.push({
      kind: 'FleetConfig',
      namespace: fc.metadata.namespace ?? 'default',
      name: fc.metadata.name,
      status: fleetConfigStatus(fc, references.get(k) ?? [], clock),
    });
  }
  for (const p of backendTls.statuses(gatewaysByService, clock)) {
    statuses.push({ kind: 'BackendTLSPolicy', ...p });
  }
  statuses.sort(compareStatus);
  memo.rotate();
  return { ir, statuses, diagnostics };
}

const KIND_ORDER = {
  GatewayClass: 0,
  Gateway: 1,
  HTTPRoute: 2,
  FleetConfig: 3,
  BackendTLSPolicy: 4,
} as const;

function compareStatus(a: StatusUpdate, b: StatusUpdate): number {
  const ka = `${'namespace' in a ? a.namespace : ''}/${a.name}`;
  const kb = `${'namespace' in b ? b.namespace : ''}/${b.name}`;
  return KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || (ka < kb ? -1 : ka > kb ? 1 : 0);
}
