// The API permissions the provisioner needs, as ClusterRole rules (exact
// verbs per resource). The chart's ClusterRole must contain them; the
// integration test runs the provisioner as a user bound to exactly these.
// Server-side apply of an object that does not exist yet needs `create` as
// well as `patch`; `get` is the check that a generated name is not taken by
// someone else's object; `list` finds the objects to prune.

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

export const PROVISIONER_RBAC_RULES: readonly PolicyRule[] = [
  {
    apiGroups: [''],
    resources: ['services', 'serviceaccounts', 'configmaps', 'secrets'],
    verbs: ['get', 'list', 'create', 'patch', 'delete'],
  },
  {
    apiGroups: ['apps'],
    resources: ['deployments'],
    verbs: ['get', 'list', 'create', 'patch', 'delete'],
  },
  {
    apiGroups: ['autoscaling'],
    resources: ['horizontalpodautoscalers'],
    verbs: ['get', 'list', 'create', 'patch', 'delete'],
  },
];
