// Kubernetes structural schemas (OpenAPI v3 with Kubernetes extensions) in
// the two forms the validator needs: a JSON Schema for ajv, and a tree of
// nodes for what JSON Schema cannot say (defaults, nullability, list types,
// CEL rules, property-name escaping).
//
// Conversion: `nullable: true` adds "null" to the type (and enum);
// `x-kubernetes-int-or-string` is the type ["integer", "string"];
// `x-kubernetes-preserve-unknown-fields` allows any property, otherwise an
// object with `properties` allows no others (an unknown field is an error,
// as with `kubectl apply`'s strict field validation); `default`,
// `description`, `example` and the other `x-kubernetes-*` keys are dropped;
// formats Kubernetes does not check (int32, int64, …) are dropped.

export interface CelRuleSpec {
  rule: string;
  message?: string;
  messageExpression?: string;
  fieldPath?: string;
  reason?: string;
  optionalOldSelf?: boolean;
}

export interface SchemaNode {
  /** Where the node is in the schema, e.g. `spec.rules[].matches[]`. */
  path: string;
  type?: string;
  nullable: boolean;
  intOrString: boolean;
  preserveUnknown: boolean;
  properties?: Map<string, SchemaNode>;
  /** Schema of a map's values. */
  additionalProperties?: SchemaNode;
  items?: SchemaNode;
  default?: unknown;
  listType?: string;
  listMapKeys?: string[];
  rules: CelRuleSpec[];
  /** The properties that have a default. */
  defaulted: [string, SchemaNode][];
  /** This node or one below it has CEL rules or a list type to check. */
  checked: boolean;
}

/** JSON Schema formats Kubernetes validates (the others are dropped). */
export const CHECKED_FORMATS = new Set([
  'ipv4',
  'ipv6',
  'cidr',
  'date-time',
  'date',
  'uuid',
  'byte',
  'hostname',
  'uri',
  'email',
  'mac',
]);

type Json = Record<string, unknown>;

function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function joinPath(base: string, key: string): string {
  return base === '' ? key : `${base}.${key}`;
}

/** Builds the node tree of a structural schema. */
export function schemaNode(s: Json, path = ''): SchemaNode {
  const node: SchemaNode = {
    path,
    nullable: s.nullable === true,
    intOrString: s['x-kubernetes-int-or-string'] === true,
    preserveUnknown: s['x-kubernetes-preserve-unknown-fields'] === true,
    rules: [],
    defaulted: [],
    checked: false,
  };
  if (typeof s.type === 'string') node.type = s.type;
  if (s.default !== undefined) node.default = s.default;
  if (typeof s['x-kubernetes-list-type'] === 'string') node.listType = s['x-kubernetes-list-type'];
  if (Array.isArray(s['x-kubernetes-list-map-keys']))
    node.listMapKeys = s['x-kubernetes-list-map-keys'].map(String);
  const rules = s['x-kubernetes-validations'];
  if (Array.isArray(rules)) {
    for (const r of rules) {
      if (isRecord(r) && typeof r.rule === 'string') node.rules.push(r as unknown as CelRuleSpec);
    }
  }
  let below = false;
  if (isRecord(s.properties)) {
    node.properties = new Map();
    for (const [k, v] of Object.entries(s.properties)) {
      if (!isRecord(v)) continue;
      const child = schemaNode(v, joinPath(path, k));
      node.properties.set(k, child);
      if (child.default !== undefined) node.defaulted.push([k, child]);
      below ||= child.checked;
    }
  }
  if (isRecord(s.additionalProperties)) {
    node.additionalProperties = schemaNode(s.additionalProperties, `${path}[*]`);
    below ||= node.additionalProperties.checked;
  }
  if (isRecord(s.items)) {
    node.items = schemaNode(s.items, `${path}[]`);
    below ||= node.items.checked;
  }
  node.checked =
    below || node.rules.length > 0 || node.listType === 'map' || node.listType === 'set';
  return node;
}

const DROPPED = new Set([
  'description',
  'default',
  'example',
  'externalDocs',
  'nullable',
  'title',
  'x-kubernetes-validations',
  'x-kubernetes-int-or-string',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-embedded-resource',
]);

function isIntOrStringAnyOf(v: unknown): boolean {
  return (
    Array.isArray(v) &&
    v.length === 2 &&
    v.every((b) => isRecord(b) && Object.keys(b).length === 1) &&
    (v as Json[]).map((b) => b.type).join() === 'integer,string'
  );
}

/** Converts a structural schema to a JSON Schema for ajv. */
export function toJsonSchema(s: Json): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(s)) {
    if (DROPPED.has(k)) continue;
    switch (k) {
      case 'properties':
        if (isRecord(v)) {
          const props: Json = {};
          for (const [name, p] of Object.entries(v)) if (isRecord(p)) props[name] = toJsonSchema(p);
          out.properties = props;
        }
        break;
      case 'additionalProperties':
      case 'items':
      case 'not':
      case 'propertyNames':
        out[k] = isRecord(v) ? toJsonSchema(v) : v;
        break;
      case 'allOf':
      case 'anyOf':
      case 'oneOf':
        if (k === 'anyOf' && s['x-kubernetes-int-or-string'] === true && isIntOrStringAnyOf(v))
          break;
        if (Array.isArray(v)) out[k] = v.map((b) => (isRecord(b) ? toJsonSchema(b) : b));
        break;
      case 'format':
        if (typeof v === 'string' && CHECKED_FORMATS.has(v)) out.format = v;
        break;
      default:
        out[k] = v;
    }
  }
  if (s['x-kubernetes-int-or-string'] === true) out.type = ['integer', 'string'];
  // Only typed objects: the branches of oneOf/anyOf (value validations) constrain what they name.
  if (s.type === 'object' && s.additionalProperties === undefined) {
    if (s['x-kubernetes-preserve-unknown-fields'] !== true) out.additionalProperties = false;
  }
  if (s.nullable === true) {
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    else if (Array.isArray(out.type)) out.type = [...(out.type as string[]), 'null'];
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
  }
  return out;
}

/**
 * What the API server does to an object before validating it, on a copy:
 * `null` in a field that is not nullable is dropped, defaults are filled in
 * (and defaulted themselves). The input is never modified.
 */
export function prepare(value: unknown, node: SchemaNode | undefined): unknown {
  if (node === undefined || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    const items = node.items;
    return items ? value.map((v) => prepare(v, items)) : value;
  }
  const obj = value as Json;
  const out: Json = {};
  const props = node.properties;
  const extra = node.additionalProperties;
  for (const [k, v] of Object.entries(obj)) {
    const child = props?.get(k) ?? extra;
    if (v === null && child !== undefined && !child.nullable) continue;
    out[k] = prepare(v, child);
  }
  for (const [k, child] of node.defaulted) {
    if (out[k] === undefined) out[k] = prepare(structuredClone(child.default), child);
  }
  return out;
}

/**
 * The object as the API server stores it: `null` in a field that is not
 * nullable dropped (no defaults). The same object when there is none, else a
 * copy of what changed.
 */
export function pruneNulls(value: unknown, node: SchemaNode | undefined): unknown {
  if (node === undefined || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    const items = node.items;
    if (!items) return value;
    let out: unknown[] | undefined;
    value.forEach((v, i) => {
      const p = pruneNulls(v, items);
      if (p !== v) (out ??= value.slice())[i] = p;
    });
    return out ?? value;
  }
  const obj = value as Json;
  let out: Json | undefined;
  for (const [k, v] of Object.entries(obj)) {
    const child = node.properties?.get(k) ?? node.additionalProperties;
    if (v === null && child !== undefined && !child.nullable) {
      out ??= { ...obj };
      delete out[k];
      continue;
    }
    const p = pruneNulls(v, child);
    if (p !== v) (out ??= { ...obj })[k] = p;
  }
  return out ?? value;
}
