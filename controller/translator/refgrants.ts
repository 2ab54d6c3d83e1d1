// ReferenceGrant checks. A reference from one namespace to an object in
// another is allowed only when a ReferenceGrant in the target namespace lists
// the referring kind and namespace in `from` and the target in `to`.
// Removing the grant revokes the reference at the next translation.
import type { ReferenceGrant } from '../apis/types.js';

export interface RefFrom {
  group: string;
  kind: string;
  namespace: string;
}

export interface RefTo {
  group: string;
  kind: string;
  namespace: string;
  name: string;
}

export class ReferenceGrants {
  private readonly byNamespace = new Map<string, ReferenceGrant[]>();

  constructor(grants: readonly ReferenceGrant[]) {
    for (const g of grants) {
      const ns = g.metadata.namespace ?? 'default';
      const list = this.byNamespace.get(ns);
      if (list) list.push(g);
      else this.byNamespace.set(ns, [g]);
    }
  }

  allowed(from: RefFrom, to: RefTo): boolean {
    if (from.namespace === to.namespace) return true;
    for (const g of this.byNamespace.get(to.namespace) ?? []) {
      const fromOk = (g.spec.from ?? []).some(
        (f) =>
          (f.group ?? '') === from.group && f.kind === from.kind && f.namespace === from.namespace,
      );
      if (!fromOk) continue;
      const toOk = (g.spec.to ?? []).some(
        (t) =>
          (t.group ?? '') === to.group &&
          t.kind === to.kind &&
          (t.name === undefined || t.name === '' || t.name === to.name),
      );
      if (toOk) return true;
    }
    return false;
  }
}
