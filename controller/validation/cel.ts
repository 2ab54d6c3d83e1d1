// CEL for `x-kubernetes-validations`, on @bufbuild/cel (a CEL evaluator with
// an RE2 `matches`, the strings extension and two-variable comprehensions),
// with the Kubernetes extension functions the CRDs' rules use: isIP, isCIDR,
// isURL and the format library (`format.dns1123Label().validate(s)`).
//
// A rule is compiled once: parsed, planned, and checked for names the
// environment does not have (bufbuild resolves functions only when they are
// called, so an unknown function would otherwise surface as an error on the
// first object). A rule that cannot be compiled, or that compares with the
// previous version of the object (`oldSelf`, a transition rule, which a single
// file cannot have), is skipped with the reason, never silently.
import { isIP } from 'node:net';
import {
  CelScalar,
  celEnv,
  celFunc,
  celMethod,
  isCelError,
  parse,
  plan,
  type CelEnv,
  type CelInput,
} from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import { RE2JS } from '@bufbuild/re2';
import type { CelRuleSpec, SchemaNode } from './schema.js';

type Expr = ReturnType<typeof parse>['expr'];

const { STRING, BOOL, DYN } = CelScalar;

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATETIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The format library: name → the error when `s` is not valid, or undefined. */
const FORMATS: Record<string, (s: string) => string | undefined> = {
  dns1123Label: (s) =>
    s.length <= 63 && DNS1123_LABEL.test(s)
      ? undefined
      : "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
  dns1123Subdomain: (s) =>
    s.length <= 253 && DNS1123_SUBDOMAIN.test(s)
      ? undefined
      : "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
  dns1035Label: (s) =>
    s.length <= 63 && DNS1035_LABEL.test(s)
      ? undefined
      : "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character",
  qualifiedName: (s) =>
    QUALIFIED_NAME.test(s) && s.split('/').pop()!.length <= 63
      ? undefined
      : 'must be a qualified name: an optional DNS subdomain prefix and "/", and a name of at most 63 characters',
  labelValue: (s) =>
    s.length <= 63 && LABEL_VALUE.test(s)
      ? undefined
      : 'a valid label must be an empty string or consist of alphanumeric characters, "-", "_" or ".", and must start and end with an alphanumeric character',
  uuid: (s) => (UUID.test(s) ? undefined : 'must be a UUID'),
  uri: (s) => (isUrl(s) ? undefined : 'must be a URI'),
  byte: (s) => (BASE64.test(s) ? undefined : 'must be base64'),
  date: (s) => (DATE.test(s) ? undefined : 'must be a date (YYYY-MM-DD)'),
  datetime: (s) => (DATETIME.test(s) ? undefined : 'must be an RFC 3339 date-time'),
};

const FORMAT_TAG = '\u0000format:';

function isUrl(s: string): boolean {
  if (s.startsWith('/')) return !/\s/.test(s);
  try {
    return new URL(s).protocol !== '';
  } catch {
    return false;
  }
}

function isCidr(s: string): boolean {
  const i = s.indexOf('/');
  if (i < 0) return false;
  const family = isIP(s.slice(0, i));
  const bits = s.slice(i + 1);
  if (family === 0 || !/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

/** The Kubernetes extension functions gatefleet provides. */
const K8S_FUNCS = [
  celFunc('isIP', [STRING], BOOL, (s) => isIP(s) !== 0 && !s.includes('%')),
  celFunc('isCIDR', [STRING], BOOL, (s) => isCidr(s)),
  celFunc('isURL', [STRING], BOOL, (s) => isUrl(s)),
  ...Object.keys(FORMATS).map((name) =>
    celFunc(`format.${name}`, [], STRING, () => FORMAT_TAG + name),
  ),
  // `format.x().validate(s)`: null when s is valid, else the list of errors.
  celMethod('validate', STRING, [STRING], DYN, function (this: string, s: string) {
    const check = this.startsWith(FORMAT_TAG) ? FORMATS[this.slice(FORMAT_TAG.length)] : undefined;
    if (!check) return [`${this} is not a format`];
    const e = check(s);
    return e === undefined ? null : [e];
  }),
];

/** RE2 (the dialect of Kubernetes' `matches`), each pattern compiled once. */
const compiledPatterns = new Map<string, RE2JS>();
const re2 = {
  compile(pattern: string): { test(text: string): boolean } {
    let re = compiledPatterns.get(pattern);
    if (!re) {
      re = RE2JS.compile(pattern);
      if (compiledPatterns.size >= 1000) compiledPatterns.clear();
      compiledPatterns.set(pattern, re);
    }
    return re;
  },
};

let sharedEnv: CelEnv | undefined;
function env(): CelEnv {
  sharedEnv ??= celEnv({ funcs: [...strings, ...K8S_FUNCS], re2 });
  return sharedEnv;
}

/** Names the planner handles itself rather than through functions. */
const BUILTIN_OPERATORS = new Set([
  '_&&_',
  '_||_',
  '_?_:_',
  '_[_]',
  '@not_strictly_false',
  '@in',
  '!_',
]);

function hasFunc(e: CelEnv, name: string, method: boolean, arity: number): boolean {
  const group = e.funcs.find(name);
  if (!group) return false;
  for (const f of group) {
    if ((f.target !== undefined) === method && f.arguments.length === arity) return true;
  }
  return false;
}

/** `a.b.c` when the expression is a chain of selections on an unbound identifier. */
function qualifiedName(e: Expr, bound: ReadonlySet<string>): string | undefined {
  const k = e.exprKind;
  if (k.case === 'identExpr') return bound.has(k.value.name) ? undefined : k.value.name;
  if (k.case === 'selectExpr' && !k.value.testOnly && k.value.operand) {
    const q = qualifiedName(k.value.operand, bound);
    return q === undefined ? undefined : `${q}.${k.value.field}`;
  }
  return undefined;
}

/** What in the expression the environment cannot resolve. */
function unresolved(
  e: CelEnv,
  x: Expr | undefined,
  bound: ReadonlySet<string>,
  out: string[],
): void {
  if (!x) return;
  const k = x.exprKind;
  switch (k.case) {
    case 'identExpr':
      if (!bound.has(k.value.name)) out.push(`undeclared reference to '${k.value.name}'`);
      return;
    case 'selectExpr':
      unresolved(e, k.value.operand, bound, out);
      return;
    case 'callExpr': {
      const { function: fn, target, args } = k.value;
      for (const a of args) unresolved(e, a, bound, out);
      if (BUILTIN_OPERATORS.has(fn)) {
        unresolved(e, target, bound, out);
        return;
      }
      const q = target ? qualifiedName(target, bound) : undefined;
      if (q !== undefined) {
        if (!hasFunc(e, `${q}.${fn}`, false, args.length))
          out.push(`undeclared function '${q}.${fn}' with ${args.length} argument(s)`);
        return;
      }
      if (target) {
        unresolved(e, target, bound, out);
        if (!hasFunc(e, fn, true, args.length))
          out.push(`undeclared method '${fn}' with ${args.length} argument(s)`);
      } else if (!hasFunc(e, fn, false, args.length)) {
        out.push(`undeclared function '${fn}' with ${args.length} argument(s)`);
      }
      return;
    }
    case 'listExpr':
      for (const el of k.value.elements) unresolved(e, el, bound, out);
      return;
    case 'structExpr':
      if (k.value.messageName !== '') out.push(`message construction ${k.value.messageName}`);
      for (const en of k.value.entries) {
        if (en.keyKind.case === 'mapKey') unresolved(e, en.keyKind.value, bound, out);
        unresolved(e, en.value, bound, out);
      }
      return;
    case 'comprehensionExpr': {
      const c = k.value;
      unresolved(e, c.iterRange, bound, out);
      unresolved(e, c.accuInit, bound, out);
      const inner = new Set(bound);
      inner.add(c.iterVar);
      if (c.iterVar2) inner.add(c.iterVar2);
      inner.add(c.accuVar);
      unresolved(e, c.loopCondition, inner, out);
      unresolved(e, c.loopStep, inner, out);
      const result = new Set(bound);
      result.add(c.accuVar);
      unresolved(e, c.result, result, out);
      return;
    }
    default:
      return;
  }
}

export type Program = (
  self: CelInput,
) => { ok: true; value: unknown } | { ok: false; error: string };

export type CompiledRule =
  | { spec: CelRuleSpec; program: Program; messageProgram?: Program }
  | { spec: CelRuleSpec; skipped: string };

const TRANSITION = /\boldSelf\b/;

function compileExpr(source: string): Program | string {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(source);
  } catch (e) {
    return `does not parse: ${(e as Error).message.split('\n')[0]}`;
  }
  const problems: string[] = [];
  unresolved(env(), parsed.expr, new Set(['self']), problems);
  if (problems.length > 0) return [...new Set(problems)].join('; ');
  let run: ReturnType<typeof plan>;
  try {
    run = plan(env(), parsed);
  } catch (e) {
    return `cannot be planned: ${(e as Error).message}`;
  }
  return (self) => {
    try {
      const v = run({ self });
      return isCelError(v) ? { ok: false, error: v.message } : { ok: true, value: v };
    } catch (e) {
      return { ok: false, error: (e as Error).message };
    }
  };
}

/** Compiles one `x-kubernetes-validations` rule, or says why it is skipped. */
export function compileRule(spec: CelRuleSpec): CompiledRule {
  if (TRANSITION.test(spec.rule)) {
    return {
      spec,
      skipped: "transition rule: compares with the object's previous version (oldSelf)",
    };
  }
  const program = compileExpr(spec.rule);
  if (typeof program === 'string') return { spec, skipped: program };
  if (spec.messageExpression) {
    const m = compileExpr(spec.messageExpression);
    if (typeof m !== 'string') return { spec, program, messageProgram: m };
  }
  return { spec, program };
}

// Kubernetes' escaping of property names in CEL (k8s.io/apiserver/pkg/cel).
const RESERVED = new Set(
  'true false null in as break const continue else for function if import let loop package namespace return var void while'.split(
    ' ',
  ),
);

const escaped = new Map<string, string>();

export function escapeProperty(name: string): string {
  let e = escaped.get(name);
  if (e === undefined) {
    e = RESERVED.has(name)
      ? `__${name}__`
      : name
          .replaceAll('__', '__underscores__')
          .replaceAll('.', '__dot__')
          .replaceAll('-', '__dash__')
          .replaceAll('/', '__slash__');
    if (escaped.size < 10_000) escaped.set(name, e);
  }
  return e;
}

/**
 * A value as CEL sees it, typed by its schema: integers are CEL ints
 * (bigint), `number` fields doubles, objects maps whose declared properties
 * are escaped. Conversions are cached per object, so nested rules reuse them.
 */
export function toCel(
  value: unknown,
  node: SchemaNode | undefined,
  cache: WeakMap<object, CelInput>,
): CelInput {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'number':
      if (node?.type === 'number' || !Number.isInteger(value)) return value;
      return BigInt(value);
    case 'string':
    case 'boolean':
      return value;
    case 'object':
      break;
    default:
      return null;
  }
  const hit = cache.get(value);
  if (hit !== undefined) return hit;
  let out: CelInput;
  if (Array.isArray(value)) {
    out = value.map((v) => toCel(v, node?.items, cache));
  } else {
    const m = new Map<string, CelInput>();
    const props = node?.properties;
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const p = props?.get(k);
      if (p) m.set(escapeProperty(k), toCel(v, p, cache));
      else if (node?.additionalProperties) m.set(k, toCel(v, node.additionalProperties, cache));
      else if (!props || node?.preserveUnknown) m.set(k, toCel(v, undefined, cache));
    }
    out = m;
  }
  cache.set(value, out);
  return out;
}
