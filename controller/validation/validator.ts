// Validates Kubernetes objects the way an API server would on create: the
// kind's structural schema (ajv, after the API server's own preparation:
// nulls in non-nullable fields dropped, defaults filled in, `status` ignored
// when it is a subresource), list types, and the CEL rules. The object passed
// in is never modified. Schemas and rules are compiled once per kind and
// version, when the first object of that version is validated.
import { isIPv4, isIPv6 } from 'node:net';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { CelInput } from '@bufbuild/cel';
import { BUILTIN_KINDS, objectMeta, type NameFormat } from './builtin.js';
import { compileRule, toCel, type CompiledRule } from './cel.js';
import { CRD_FILES, defaultCrdDir, loadCrd } from './crds.js';
import {
  prepare,
  pruneNulls,
  schemaNode,
  toJsonSchema,
  type CelRuleSpec,
  type SchemaNode,
} from './schema.js';

export type PathSegment = string | number;

/** One problem with one field. */
export interface FieldError {
  /** Where, from the object's root: `['spec', 'rules', 0, 'matches']`. */
  path: PathSegment[];
  /** The path as text: `spec.rules[0].matches`. */
  field: string;
  message: string;
}

export type ValidationOutcome =
  /**
   * The object's kind and version have a schema; `errors` is empty when it is
   * valid. `stored` is the object as an API server would store it, when that
   * differs from the input (nulls in fields that are not nullable dropped).
   */
  | {
      status: 'checked';
      kind: string;
      namespaced: boolean;
      errors: FieldError[];
      stored?: unknown;
    }
  /** Not an object of a kind and version with a schema. */
  | { status: 'unknown'; field: 'document' | 'kind' | 'apiVersion'; message: string };

/** One CEL rule of one kind and version, and whether it is evaluated. */
export interface RuleInfo {
  kind: string;
  version: string;
  /** Schema path of the field the rule is on, e.g. `spec.rules[]`. */
  path: string;
  rule: string;
  message?: string;
  /** Why the rule is not evaluated. */
  skipped?: string;
}

type Json = Record<string, unknown>;

interface Compiled {
  validate: ValidateFunction;
  root: SchemaNode;
  rules: Map<CelRuleSpec, CompiledRule>;
  statusSubresource: boolean;
}

interface VersionEntry {
  name: string;
  served: boolean;
  schema: Json;
  statusSubresource: boolean;
  compiled?: Compiled;
}

interface KindEntry {
  kind: string;
  group: string;
  namespaced: boolean;
  names: NameFormat;
  versions: VersionEntry[];
}

function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `spec.rules[0].matches`, with map keys that are not identifiers in brackets. */
export function formatPath(path: readonly PathSegment[]): string {
  let s = '';
  for (const seg of path) {
    if (typeof seg === 'number') s += `[${seg}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(seg)) s += s === '' ? seg : `.${seg}`;
    else s += `[${seg}]`;
  }
  return s === '' ? '(object)' : s;
}

/** A value in a message: strings quoted, objects by their type, as the API server does. */
function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 80 ? `${v.slice(0, 77)}...` : v);
  if (Array.isArray(v)) return '"array"';
  if (v === null) return 'null';
  if (typeof v === 'object') return '"object"';
  return String(v);
}

const DATETIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

function newAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, verbose: true, strict: false, validateFormats: true });
  ajv.addFormat('ipv4', (s: string) => isIPv4(s));
  ajv.addFormat('ipv6', (s: string) => isIPv6(s));
  ajv.addFormat('cidr', (s: string) => {
    const [ip = '', bits = '', ...rest] = s.split('/');
    if (rest.length > 0 || !/^\d{1,3}$/.test(bits)) return false;
    return isIPv4(ip) ? Number(bits) <= 32 : isIPv6(ip) && Number(bits) <= 128;
  });
  ajv.addFormat('date-time', DATETIME);
  ajv.addFormat('date', /^\d{4}-\d{2}-\d{2}$/);
  ajv.addFormat('uuid', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);
  ajv.addFormat('byte', /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/);
  ajv.addFormat('hostname', /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/i);
  ajv.addFormat('uri', (s: string) => URL.canParse(s));
  ajv.addFormat('email', /^[^\s@]+@[^\s@]+$/);
  ajv.addFormat('mac', /^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$/i);
  return ajv;
}

function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.lastIndexOf('/');
  return i < 0
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

function apiVersionOf(group: string, version: string): string {
  return group === '' ? version : `${group}/${version}`;
}

/** The JSON pointer ajv uses for a path. */
function pointer(path: readonly PathSegment[]): string {
  let s = '';
  for (const seg of path) s += `/${String(seg).replaceAll('~', '~0').replaceAll('/', '~1')}`;
  return s;
}

/** A JSON pointer back to segments; array indices become numbers. */
function segments(ptr: string, data: unknown): PathSegment[] {
  if (ptr === '') return [];
  const out: PathSegment[] = [];
  let cur: unknown = data;
  for (const raw of ptr.slice(1).split('/')) {
    const seg = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (Array.isArray(cur)) {
      const i = Number(seg);
      out.push(i);
      cur = cur[i];
    } else {
      out.push(seg);
      cur = isRecord(cur) ? cur[seg] : undefined;
    }
  }
  return out;
}

const COMBINATORS = new Set(['oneOf', 'anyOf', 'not']);
/** Errors that say which branch of a oneOf does not apply, rather than what is wrong. */
const DISCRIMINATING = new Set(['not', 'enum', 'const']);

function insideCombinator(schemaPath: string): boolean {
  return /\/(oneOf|anyOf)\/\d+\/|\/not\//.test(schemaPath);
}

/** The message for one ajv error, or undefined when another error says it. */
function message(e: ErrorObject): { extra?: PathSegment; text: string } | undefined {
  // An error about a map key (propertyNames) is the key's own error.
  if (e.propertyName !== undefined) {
    const m = valueMessage(e, e.propertyName);
    return m === undefined ? undefined : { extra: e.propertyName, text: m.text };
  }
  return valueMessage(e, e.data);
}

function valueMessage(
  e: ErrorObject,
  value: unknown,
): { extra?: PathSegment; text: string } | undefined {
  const p = e.params as Record<string, unknown>;
  const limit = String(p.limit);
  switch (e.keyword) {
    case 'required':
      return { extra: String(p.missingProperty), text: 'Required value' };
    case 'additionalProperties':
      return { extra: String(p.additionalProperty), text: 'Unknown field' };
    case 'type': {
      const t = Array.isArray(p.type) ? p.type : String(p.type).split(',');
      const types = (t as string[]).filter((x) => x !== 'null');
      return { text: `Invalid value: ${show(value)}: must be of type ${types.join(' or ')}` };
    }
    case 'enum': {
      const allowed = (p.allowedValues as unknown[]).filter((x) => x !== null);
      return {
        text: `Unsupported value: ${show(value)}: supported values: ${allowed.map((x) => JSON.stringify(x)).join(', ')}`,
      };
    }
    case 'pattern':
      return { text: `Invalid value: ${show(value)}: must match '${String(p.pattern)}'` };
    case 'format':
      return { text: `Invalid value: ${show(value)}: must be a valid ${String(p.format)}` };
    case 'minLength':
      return { text: `Invalid value: ${show(value)}: must be at least ${limit} characters long` };
    case 'maxLength':
      return { text: `Too long: may not be more than ${limit} characters` };
    case 'minItems':
      return {
        text: `Invalid value: ${(value as unknown[]).length}: must have at least ${limit} items`,
      };
    case 'maxItems':
      return {
        text: `Too many: ${(value as unknown[]).length}: must have at most ${limit} items`,
      };
    case 'minProperties':
      return { text: `Invalid value: must have at least ${limit} properties` };
    case 'maxProperties':
      return {
        text: `Too many: ${Object.keys(value as object).length}: must have at most ${limit} properties`,
      };
    case 'minimum':
    case 'exclusiveMinimum':
      return {
        text: `Invalid value: ${show(value)}: must be greater than ${e.keyword === 'minimum' ? 'or equal to ' : ''}${limit}`,
      };
    case 'maximum':
    case 'exclusiveMaximum':
      return {
        text: `Invalid value: ${show(value)}: must be less than ${e.keyword === 'maximum' ? 'or equal to ' : ''}${limit}`,
      };
    case 'uniqueItems':
      return { text: `Duplicate value: items ${String(p.j)} and ${String(p.i)} are identical` };
    case 'propertyNames':
      return undefined; // the error of the key itself says it
    case 'oneOf':
      return { text: `Invalid value: ${show(value)}: must match exactly one of the allowed forms` };
    case 'anyOf':
      return { text: `Invalid value: ${show(value)}: must match one of the allowed forms` };
    case 'not':
      return { text: `Invalid value: ${show(value)}: is not allowed` };
    default:
      return { text: `Invalid value: ${show(value)}: ${e.message ?? e.keyword}` };
  }
}

/** Turns ajv's errors into field errors, explaining oneOf/anyOf failures by their branches. */
function fieldErrors(errors: readonly ErrorObject[], data: unknown): FieldError[] {
  const out: FieldError[] = [];
  const seen = new Set<string>();
  const emit = (e: ErrorObject) => {
    const m = message(e);
    if (!m) return;
    const path = segments(e.instancePath, data);
    if (m.extra !== undefined) path.push(m.extra);
    const field = formatPath(path);
    const key = `${field}\u0000${m.text}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ path, field, message: m.text });
  };
  const explain = (c: ErrorObject) => {
    const prefix = `${c.schemaPath}/`;
    const branches = new Map<string, ErrorObject[]>();
    for (const e of errors) {
      if (!e.schemaPath.startsWith(prefix)) continue;
      // The same schema applies to every item of a list: only this value's errors.
      if (e.instancePath !== c.instancePath && !e.instancePath.startsWith(`${c.instancePath}/`))
        continue;
      const rest = e.schemaPath.slice(prefix.length);
      const b = rest.split('/')[0]!;
      if (insideCombinator(rest.slice(b.length))) continue; // said by a nested combinator's error
      const list = branches.get(b);
      if (list) list.push(e);
      else branches.set(b, [e]);
    }
    // The branches that fail for what the value says, not because they do not apply.
    const relevant = [...branches.values()].filter(
      (es) => !es.some((e) => DISCRIMINATING.has(e.keyword)),
    );
    if (
      relevant.length > 0 &&
      relevant.every((es) => es.length === 1 && es[0]!.keyword === 'format')
    ) {
      const names = relevant.map((es) => String((es[0]!.params as { format: string }).format));
      const path = segments(c.instancePath, data);
      out.push({
        path,
        field: formatPath(path),
        message: `Invalid value: ${show(c.data)}: must be a valid ${names.join(' or ')}`,
      });
      return;
    }
    if (relevant.length === 1) {
      for (const e of relevant[0]!) {
        if (COMBINATORS.has(e.keyword)) explain(e);
        else emit(e);
      }
      return;
    }
    emit(c);
  };
  for (const e of errors) {
    if (insideCombinator(e.schemaPath)) continue;
    if (COMBINATORS.has(e.keyword)) explain(e);
    else emit(e);
  }
  return out;
}

/** Walks the schema tree and collects each node's rules. */
function collectRules(node: SchemaNode, out: { node: SchemaNode; spec: CelRuleSpec }[]): void {
  if (!node.checked) return;
  for (const spec of node.rules) out.push({ node, spec });
  if (node.properties) for (const c of node.properties.values()) collectRules(c, out);
  if (node.additionalProperties) collectRules(node.additionalProperties, out);
  if (node.items) collectRules(node.items, out);
}

/** `.foo.bar` or `.foo['bar.baz']` (a rule's fieldPath) as segments. */
function fieldPathSegments(fieldPath: string): PathSegment[] {
  const out: PathSegment[] = [];
  const re = /\.([A-Za-z_$][\w$-]*)|\[\s*'([^']*)'\s*\]|\[(\d+)\]/gy;
  let m: RegExpExecArray | null;
  while ((m = re.exec(fieldPath)) !== null)
    out.push(m[3] !== undefined ? Number(m[3]) : (m[1] ?? m[2])!);
  return out;
}

export class Validator {
  private readonly ajv = newAjv();
  private readonly kinds = new Map<string, KindEntry | null>();
  /** Kinds whose CRD could not be read, and why: their objects are not checked. */
  private readonly unreadable = new Map<string, string>();

  constructor(readonly crdDir: string = defaultCrdDir()) {}

  /** Kinds with a schema: the CRDs' and the built-in ones. */
  knownKinds(): string[] {
    return [...Object.keys(CRD_FILES), ...BUILTIN_KINDS.map((b) => b.kind)];
  }

  private entry(kind: string): KindEntry | null {
    let e = this.kinds.get(kind);
    if (e !== undefined) return e;
    e = null;
    const builtin = BUILTIN_KINDS.find((b) => b.kind === kind);
    if (builtin) {
      e = {
        kind,
        group: builtin.group,
        namespaced: builtin.namespaced,
        names: builtin.names,
        versions: [
          { name: builtin.version, served: true, schema: builtin.schema, statusSubresource: false },
        ],
      };
    } else if (CRD_FILES[kind] !== undefined) {
      let crd: ReturnType<typeof loadCrd>;
      try {
        crd = loadCrd(this.crdDir, kind);
      } catch (err) {
        this.unreadable.set(kind, (err as Error).message);
      }
      if (crd) {
        e = {
          kind,
          group: crd.group,
          namespaced: crd.namespaced,
          names: 'subdomain',
          versions: crd.versions,
        };
      }
    }
    this.kinds.set(kind, e);
    return e;
  }

  private compile(entry: KindEntry, v: VersionEntry): Compiled {
    if (v.compiled) return v.compiled;
    const props = isRecord(v.schema.properties) ? v.schema.properties : {};
    const structural: Json = {
      ...v.schema,
      properties: {
        ...props,
        apiVersion: { type: 'string' },
        kind: { type: 'string' },
        metadata: objectMeta(entry.names),
      },
      required: [
        ...new Set([
          ...(Array.isArray(v.schema.required) ? (v.schema.required as string[]) : []),
          'metadata',
        ]),
      ],
    };
    const root = schemaNode(structural);
    const rules = new Map<CelRuleSpec, CompiledRule>();
    const found: { node: SchemaNode; spec: CelRuleSpec }[] = [];
    collectRules(root, found);
    for (const { spec } of found) rules.set(spec, compileRule(spec));
    v.compiled = {
      validate: this.ajv.compile(toJsonSchema(structural)),
      root,
      rules,
      statusSubresource: v.statusSubresource,
    };
    return v.compiled;
  }

  /** Validates one object (not modified). */
  validate(obj: unknown): ValidationOutcome {
    if (!isRecord(obj) || typeof obj.kind !== 'string') {
      return {
        status: 'unknown',
        field: 'document',
        message: 'not a Kubernetes object: expected a mapping with `kind` and `apiVersion`',
      };
    }
    const kind = obj.kind;
    const entry = this.entry(kind);
    if (!entry) {
      const why = this.unreadable.get(kind);
      return {
        status: 'unknown',
        field: 'kind',
        message:
          why === undefined
            ? `kind ${kind} has no schema in gatefleet`
            : `kind ${kind} is not checked: its CRD cannot be read: ${why}`,
      };
    }
    const apiVersion = typeof obj.apiVersion === 'string' ? obj.apiVersion : '';
    const { group, version } = splitApiVersion(apiVersion);
    const v =
      group === entry.group
        ? entry.versions.find((x) => x.served && x.name === version)
        : undefined;
    if (!v) {
      const served = entry.versions
        .filter((x) => x.served)
        .map((x) => apiVersionOf(entry.group, x.name));
      return {
        status: 'unknown',
        field: 'apiVersion',
        message: `apiVersion "${apiVersion}" is not served for ${kind}; expected one of ${served.join(', ')}`,
      };
    }
    const c = this.compile(entry, v);
    const data = prepare(obj, c.root) as Json;
    if (c.statusSubresource) delete data.status;
    const errors: FieldError[] = [];
    if (!c.validate(data)) errors.push(...fieldErrors(c.validate.errors ?? [], data));
    const schemaErrorPointers = errors.map((e) => pointer(e.path));
    this.walk(data, c.root, [], c, errors, schemaErrorPointers, new WeakMap());
    const stored = pruneNulls(obj, c.root);
    return {
      status: 'checked',
      kind,
      namespaced: entry.namespaced,
      errors,
      ...(stored === obj ? {} : { stored }),
    };
  }

  /** List types and CEL rules, top-down. */
  private walk(
    value: unknown,
    node: SchemaNode,
    path: PathSegment[],
    c: Compiled,
    errors: FieldError[],
    schemaErrors: readonly string[],
    cache: WeakMap<object, CelInput>,
  ): void {
    if (!node.checked || value === null || value === undefined) return;
    if (Array.isArray(value) && (node.listType === 'map' || node.listType === 'set')) {
      const keys = node.listMapKeys ?? [];
      const seen = new Set<string>();
      value.forEach((item, i) => {
        const k =
          node.listType === 'set'
            ? JSON.stringify(item)
            : JSON.stringify(
                Object.fromEntries(
                  keys.map((key) => [key, isRecord(item) ? item[key] : undefined]),
                ),
              );
        if (seen.has(k)) {
          const p = [...path, i];
          errors.push({ path: p, field: formatPath(p), message: `Duplicate value: ${k}` });
        }
        seen.add(k);
      });
    }
    if (node.rules.length > 0) {
      const self = toCel(value, node, cache);
      for (const spec of node.rules) {
        const r = c.rules.get(spec);
        if (!r || 'skipped' in r) continue;
        const res = r.program(self);
        if (res.ok && res.value === true) continue;
        let p = path;
        if (spec.fieldPath) p = [...path, ...fieldPathSegments(spec.fieldPath)];
        let text = spec.message ?? `failed rule: ${spec.rule}`;
        if (r.messageProgram) {
          const m = r.messageProgram(self);
          if (m.ok && typeof m.value === 'string' && m.value !== '') text = m.value;
        }
        if (!res.ok) {
          const here = pointer(path);
          // A rule that cannot be evaluated on a value that already failed its schema says nothing new.
          if (schemaErrors.some((e) => e === here || e.startsWith(`${here}/`))) continue;
          text = `${text} (rule evaluation error: ${res.error})`;
        } else if (res.value !== false) {
          text = `${text} (rule evaluated to ${String(res.value)}, not a bool)`;
        }
        errors.push({ path: p, field: formatPath(p), message: text });
      }
    }
    if (Array.isArray(value)) {
      if (node.items) {
        const items = node.items;
        value.forEach((v, i) => this.walk(v, items, [...path, i], c, errors, schemaErrors, cache));
      }
      return;
    }
    if (!isRecord(value)) return;
    const props = node.properties;
    const extra = node.additionalProperties?.checked ? node.additionalProperties : undefined;
    for (const k in value) {
      const child = props?.get(k) ?? extra;
      if (child?.checked) this.walk(value[k], child, [...path, k], c, errors, schemaErrors, cache);
    }
  }

  /** Every CEL rule of every kind and version with a schema, compiling all of them. */
  rules(): RuleInfo[] {
    const out: RuleInfo[] = [];
    for (const kind of this.knownKinds()) {
      const entry = this.entry(kind);
      if (!entry) continue;
      for (const v of entry.versions) {
        if (!v.served) continue;
        const c = this.compile(entry, v);
        const found: { node: SchemaNode; spec: CelRuleSpec }[] = [];
        collectRules(c.root, found);
        for (const { node, spec } of found) {
          const r = c.rules.get(spec);
          out.push({
            kind,
            version: v.name,
            path: node.path === '' ? '(object)' : node.path,
            rule: spec.rule,
            ...(spec.message !== undefined ? { message: spec.message } : {}),
            ...(r && 'skipped' in r ? { skipped: r.skipped } : {}),
          });
        }
      }
    }
    return out;
  }
}

let shared: Validator | undefined;

/** The process-wide validator over gatefleet's own CRDs (compiled schemas are kept). */
export function sharedValidator(): Validator {
  shared ??= new Validator();
  return shared;
}
