// The API calls of the provisioner, on the kinds it owns and nothing else:
// server-side apply (one field manager, force), get, list by label selector
// across namespaces, delete with a UID precondition (an object recreated by
// someone else since it was listed is never deleted), and the hand-off of
// Deployment replicas to a HorizontalPodAutoscaler.
import type { KubeObject } from '../providers/kube/kinds.js';
import { isStatus, type KubeRest } from '../providers/kube/rest.js';

export interface OwnedKind {
  kind: string;
  apiVersion: string;
  plural: string;
}

/** Every kind the provisioner writes, in apply order; pruning lists exactly these. */
export const OWNED_KINDS: readonly OwnedKind[] = [
  { kind: 'ServiceAccount', apiVersion: 'v1', plural: 'serviceaccounts' },
  { kind: 'ConfigMap', apiVersion: 'v1', plural: 'configmaps' },
  { kind: 'Secret', apiVersion: 'v1', plural: 'secrets' },
  { kind: 'Service', apiVersion: 'v1', plural: 'services' },
  { kind: 'Deployment', apiVersion: 'apps/v1', plural: 'deployments' },
  {
    kind: 'HorizontalPodAutoscaler',
    apiVersion: 'autoscaling/v2',
    plural: 'horizontalpodautoscalers',
  },
];

const BY_KIND = new Map(OWNED_KINDS.map((k) => [k.kind, k]));

function kindOf(kind: string): OwnedKind {
  const k = BY_KIND.get(kind);
  if (!k) throw new Error(`the provisioner does not manage ${kind}`);
  return k;
}

function groupPath(apiVersion: string): string {
  return apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
}

export function objectPath(kind: string, namespace: string, name: string): string {
  const k = kindOf(kind);
  return `${groupPath(k.apiVersion)}/namespaces/${encodeURIComponent(namespace)}/${k.plural}/${encodeURIComponent(name)}`;
}

/** `Kind namespace/name`: how reports and logs name an object. */
export function objectKey(kind: string, namespace: string, name: string): string {
  return `${kind} ${namespace}/${name}`;
}

export function keyOf(obj: KubeObject): string {
  return objectKey(obj.kind ?? '', obj.metadata?.namespace ?? '', obj.metadata?.name ?? '');
}

interface ObjectList {
  items?: KubeObject[];
  metadata?: { continue?: string };
}

interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  subresource?: string;
  fieldsV1?: { 'f:spec'?: Record<string, unknown> };
}

export class Applier {
  constructor(
    private readonly rest: KubeRest,
    readonly fieldManager: string,
  ) {}

  /** Server-side apply: creates or updates the fields this manager sets, dropping those it no longer sets. */
  apply(obj: KubeObject, fieldManager = this.fieldManager): Promise<KubeObject> {
    const md = obj.metadata ?? {};
    return this.rest.request<KubeObject>(
      'PATCH',
      objectPath(obj.kind ?? '', md.namespace ?? '', md.name ?? ''),
      {
        query: { fieldManager, force: true },
        body: obj,
        contentType: 'application/apply-patch+yaml',
      },
    );
  }

  async get(kind: string, namespace: string, name: string): Promise<KubeObject | undefined> {
    try {
      return await this.rest.get<KubeObject>(objectPath(kind, namespace, name));
    } catch (e) {
      if (isStatus(e, 404)) return undefined;
      throw e;
    }
  }

  /** Every object of a kind matching the selector, in all namespaces (paged). */
  async list(kind: string, labelSelector: string): Promise<KubeObject[]> {
    const k = kindOf(kind);
    const out: KubeObject[] = [];
    let cont: string | undefined;
    do {
      const page = await this.rest.get<ObjectList>(`${groupPath(k.apiVersion)}/${k.plural}`, {
        labelSelector,
        limit: 500,
        continue: cont,
      });
      for (const item of page.items ?? []) {
        item.kind = k.kind;
        item.apiVersion = k.apiVersion;
        out.push(item);
      }
      cont = page.metadata?.continue || undefined;
    } while (cont);
    return out;
  }

  /**
   * Deletes the object if it is still the one with this UID. False when it
   * was already gone or has been replaced (the precondition failed).
   */
  async delete(kind: string, namespace: string, name: string, uid: string): Promise<boolean> {
    try {
      await this.rest.request('DELETE', objectPath(kind, namespace, name), {
        body: {
          apiVersion: 'v1',
          kind: 'DeleteOptions',
          preconditions: { uid },
          propagationPolicy: 'Background',
        },
      });
      return true;
    } catch (e) {
      if (isStatus(e, 404, 409)) return false;
      throw e;
    }
  }

  /**
   * Before this manager stops setting spec.replicas (an HPA takes over), a
   * second manager claims the current value: server-side apply removes a
   * field its last owner stops setting, and the Deployment would drop to one
   * replica until the HPA scales it back. The HPA's own scale updates take the
   * field from that manager later; re-applying replicas (HPA removed) takes it
   * back with force.
   */
  async handOffReplicas(namespace: string, name: string): Promise<boolean> {
    const current = await this.get('Deployment', namespace, name);
    if (!current) return false;
    const entries = (current.metadata?.managedFields ?? []) as ManagedFieldsEntry[];
    const owned = entries.some(
      (m) =>
        m.manager === this.fieldManager &&
        m.operation === 'Apply' &&
        !m.subresource &&
        m.fieldsV1?.['f:spec']?.['f:replicas'] !== undefined,
    );
    if (!owned) return false;
    const replicas = (current.spec as { replicas?: number } | undefined)?.replicas;
    if (replicas === undefined) return false;
    await this.apply(
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name, namespace },
        spec: { replicas },
      },
      `${this.fieldManager}-replicas-handoff`,
    );
    return true;
  }
}
