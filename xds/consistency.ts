// Referential consistency of one node group's resources, checked before a
// snapshot is published: every ClusterLoadAssignment belongs to a Cluster and
// every Cluster has one; every RouteConfiguration is named by a Listener and
// every Listener's routes exist; every cluster a route sends to exists (but
// the invalid-backend sentinel); every Secret a Listener or a Cluster (its
// client certificate towards TLS backends) names exists.
import { TypeUrl } from './proto/root.js';
import type { ResourcesByType } from './resources/index.js';
import { INVALID_BACKEND_CLUSTER } from './resources/routes.js';

type Obj = Record<string, unknown>;

function names(rs: ResourcesByType, t: string): Set<string> {
  return new Set((rs.get(t as never) ?? []).map((r) => r.name));
}

/** Walks a resource object and calls `visit` for every nested object. */
function walk(v: unknown, visit: (o: Obj) => void): void {
  if (Array.isArray(v)) for (const x of v) walk(x, visit);
  else if (v && typeof v === 'object') {
    visit(v as Obj);
    for (const x of Object.values(v)) walk(x, visit);
  }
}

export function checkConsistency(rs: ResourcesByType): string[] {
  const problems: string[] = [];
  const clusters = names(rs, TypeUrl.Cluster);
  const assignments = names(rs, TypeUrl.ClusterLoadAssignment);
  const routeConfigs = names(rs, TypeUrl.RouteConfiguration);
  const secrets = names(rs, TypeUrl.Secret);
  for (const a of assignments)
    if (!clusters.has(a)) problems.push(`ClusterLoadAssignment ${a} has no Cluster`);
  for (const c of clusters)
    if (!assignments.has(c)) problems.push(`Cluster ${c} has no ClusterLoadAssignment`);
  for (const c of rs.get(TypeUrl.Cluster) ?? []) {
    const ts = c.resource.transport_socket as Obj | undefined;
    if (!ts) continue;
    walk(ts, (o) => {
      if (!Array.isArray(o.tls_certificate_sds_secret_configs)) return;
      for (const s of o.tls_certificate_sds_secret_configs as Obj[])
        if (!secrets.has(s.name as string))
          problems.push(`Cluster ${c.name} names Secret ${String(s.name)}, which does not exist`);
    });
  }

  const namedRoutes = new Set<string>();
  for (const l of rs.get(TypeUrl.Listener) ?? []) {
    walk(l.resource, (o) => {
      if (typeof o.route_config_name === 'string') {
        namedRoutes.add(o.route_config_name);
        if (!routeConfigs.has(o.route_config_name))
          problems.push(
            `Listener ${l.name} names RouteConfiguration ${o.route_config_name}, which does not exist`,
          );
      }
      if (Array.isArray(o.tls_certificate_sds_secret_configs)) {
        for (const s of o.tls_certificate_sds_secret_configs as Obj[]) {
          if (!secrets.has(s.name as string))
            problems.push(
              `Listener ${l.name} names Secret ${String(s.name)}, which does not exist`,
            );
        }
      }
    });
  }
  for (const r of routeConfigs)
    if (!namedRoutes.has(r)) problems.push(`RouteConfiguration ${r} is named by no Listener`);

  for (const rc of rs.get(TypeUrl.RouteConfiguration) ?? []) {
    const { virtual_hosts: vhs, ...rest } = rc.resource;
    for (const part of [rest, ...(Array.isArray(vhs) ? (vhs as Obj[]) : [])]) {
      for (const ref of clusterRefs(part)) {
        if (ref !== INVALID_BACKEND_CLUSTER && !clusters.has(ref))
          problems.push(
            `RouteConfiguration ${rc.name} sends to Cluster ${ref}, which does not exist`,
          );
      }
    }
  }
  return problems;
}

/** Clusters named in a virtual host, walked once per object (they are never modified). */
const refsByObject = new WeakMap<Obj, readonly string[]>();

function clusterRefs(o: Obj): readonly string[] {
  let refs = refsByObject.get(o);
  if (refs) return refs;
  const out: string[] = [];
  walk(o, (x) => {
    if (typeof x.cluster === 'string') out.push(x.cluster);
    if (x.weighted_clusters)
      for (const c of (x.weighted_clusters as Obj).clusters as Obj[]) out.push(String(c.name));
  });
  refsByObject.set(o, (refs = out));
  return refs;
}
