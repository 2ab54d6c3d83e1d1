// A validator for the protoc-gen-validate (PGV) rules Envoy's protos carry, so that
// gatefleet rejects a resource Envoy would NACK before sending it. protobufjs exposes the
// rules as parsed options: `field.parsedOptions` like
// [{"(validate.rules)": {"string": {"min_len": 1}}}] and `oneof.parsedOptions` like
// [{"(validate.required)": true}].
//
// validateMessage() returns human-readable violations, each prefixed with the field path
// (`virtual_hosts[0].routes[1].route.cluster_specifier: ...`, map entries as
// `typed_per_filter_config["envoy.filters.http.cors"]`, a map key's own violations as
// `filter_metadata[""] (key)`), in field number order, recursing into set message fields,
// repeated and map fields, and into Any payloads (decoded with the type the Root knows for
// the type URL; a path continues through the Any field into the payload's fields). PGV
// semantics: rules on a plain proto3 scalar apply to its default value when unset; rules on
// a oneof member (or proto3 `optional` field) and on message-typed fields (wrappers,
// Duration, Timestamp, Any) apply only when set; rules on a wrapper field apply to its
// `value`. A plain object is first converted with Type.fromObject, so it is checked as it
// would be encoded (fromObject silently turns an enum name it does not know into 0 and an
// Any whose @type the Root does not know into an empty Any). An Any payload of a type the
// Root does not know is not checked.
//
// Rules covered (everything else, e.g. string email/uri_ref, bytes pattern, timestamp
// lt_now/gt_now/within, map no_sparse, is ignored):
// - message: required, skip; oneof (validate.required)
// - string: const, len, min_len, max_len (code points), len_bytes, min_bytes, max_bytes,
//   pattern (RE2 run as a JS RegExp; ignored when it does not compile), prefix, suffix,
//   contains, not_contains, in, not_in, ignore_empty, well_known hostname, ip, ipv4, ipv6,
//   address, uri, uuid, well_known_regex HTTP_HEADER_NAME / HTTP_HEADER_VALUE (strict, or
//   with strict: false only \0 \r \n rejected, per the PGV docs)
// - bytes: const, len, min_len, max_len, prefix, suffix, contains, in, not_in, ip, ipv4,
//   ipv6, ignore_empty
// - float, double, int32, int64, uint32, uint64, sint32, sint64, fixed32, fixed64, sfixed32,
//   sfixed64 (also on their wrapper types): const, lt, lte, gt, gte (a range whose upper
//   bound is below its lower bound means "outside"), in, not_in, ignore_empty
// - bool: const; enum: const, defined_only, in, not_in
// - duration and timestamp: required, const, lt, lte, gt, gte (duration also in, not_in)
// - any: required, in, not_in
// - repeated: min_items, max_items, unique (scalars and enums), items, ignore_empty
// - map: min_pairs, max_pairs, keys, values, ignore_empty
//
// The rules of each Type are compiled once into closures, cached in a WeakMap keyed by the
// Type, as is whether any rule is reachable below a Type at all (subtrees without rules
// are not walked).
import { isIP, isIPv4, isIPv6 } from 'node:net';
import protobuf from 'protobufjs';

type Obj = Record<string, unknown>;
type Rules = Record<string, unknown>;
/** Checks one value; pushes `${path}: ${problem}` for each violation. */
type Check = (v: unknown, path: string, out: string[]) => void;

interface ValueCtx {
  scalar?: string;
  enumType?: protobuf.Enum;
  msgType?: protobuf.Type;
}

interface FieldPlan {
  name: string;
  kind: 'single' | 'repeated' | 'map';
  /** Member of a oneof (or proto3 optional): its rules apply only when it is set. */
  presence: boolean;
  isMessage: boolean;
  defaultValue: unknown;
  required: boolean;
  /** The single value, each repeated element, or each map value. */
  check?: Check;
  listCheck?: (arr: unknown[], path: string, out: string[]) => void;
  mapCheck?: (count: number, path: string, out: string[]) => void;
  keyCheck?: Check;
  keyType?: string;
  /** Message type of the values, when nested validation is not skipped. */
  nested?: protobuf.Type;
  /** Whether `nested` is google.protobuf.Any. */
  nestedAny: boolean;
  /** needsWalk(nested), filled in on first use. */
  nestedNeeded?: boolean;
}

interface TypePlan {
  fields: FieldPlan[];
  requiredOneofs: { name: string; members: string[] }[];
  /** Any rule on this type itself, or an Any field (whose payload may carry rules). */
  ownWork: boolean;
}

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);
const isSet = (m: Obj, k: string): boolean => hasOwn(m, k) && m[k] !== undefined && m[k] !== null;

const ANY = 'google.protobuf.Any';
const WRAPPERS = new Set([
  'google.protobuf.DoubleValue',
  'google.protobuf.FloatValue',
  'google.protobuf.Int64Value',
  'google.protobuf.UInt64Value',
  'google.protobuf.Int32Value',
  'google.protobuf.UInt32Value',
  'google.protobuf.BoolValue',
  'google.protobuf.StringValue',
  'google.protobuf.BytesValue',
]);
const NUMERIC_KINDS = new Set([
  'float',
  'double',
  'int32',
  'int64',
  'uint32',
  'uint64',
  'sint32',
  'sint64',
  'fixed32',
  'fixed64',
  'sfixed32',
  'sfixed64',
]);
const LONG_KINDS = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);

function nameOf(o: protobuf.ReflectionObject): string {
  return o.fullName.startsWith('.') ? o.fullName.slice(1) : o.fullName;
}

/**
 * Validates a message (decoded, or a plain object in protobufjs' fromObject form) against
 * the PGV rules of its type and of everything it contains. Returns [] when valid.
 */
export function validateMessage(type: protobuf.Type, message: protobuf.Message | object): string[] {
  const out: string[] = [];
  let m: Obj;
  try {
    m = (message instanceof type.ctor ? message : type.fromObject(message as Obj)) as Obj;
  } catch (e) {
    return [`${nameOf(type)}: ${(e as Error).message}`];
  }
  walk(type, m, '', out);
  return out;
}

// ---- walking ----

function join(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`;
}

function walk(type: protobuf.Type, m: Obj, path: string, out: string[]): void {
  const plan = planOf(type);
  for (const o of plan.requiredOneofs) {
    if (!o.members.some((k) => isSet(m, k))) {
      out.push(`${join(path, o.name)}: one of ${o.members.join(', ')} must be set`);
    }
  }
  for (const f of plan.fields) {
    const set = isSet(m, f.name);
    const p = join(path, f.name);
    if (f.kind === 'single') {
      if (f.isMessage) {
        if (!set) {
          // A oneof member's rules (required included) apply only when it is the one set.
          if (f.required && !f.presence) out.push(`${p}: is required`);
          continue;
        }
        const v = m[f.name];
        f.check?.(v, p, out);
        if (f.nested && (f.nestedNeeded ??= needsWalk(f.nested))) {
          walkValue(f.nested, f.nestedAny, v as Obj, p, out);
        }
      } else {
        if (!set && f.presence) continue;
        f.check?.(set ? m[f.name] : f.defaultValue, p, out);
      }
    } else if (f.kind === 'repeated') {
      const arr = set ? (m[f.name] as unknown[]) : [];
      f.listCheck?.(arr, p, out);
      const nested = f.nested && (f.nestedNeeded ??= needsWalk(f.nested)) ? f.nested : undefined;
      if (!f.check && !nested) continue;
      for (let i = 0; i < arr.length; i++) {
        const ep = `${p}[${i}]`;
        f.check?.(arr[i], ep, out);
        if (nested && arr[i]) walkValue(nested, f.nestedAny, arr[i] as Obj, ep, out);
      }
    } else {
      const obj = set ? (m[f.name] as Obj) : {};
      const keys = Object.keys(obj);
      f.mapCheck?.(keys.length, p, out);
      const nested = f.nested && (f.nestedNeeded ??= needsWalk(f.nested)) ? f.nested : undefined;
      if (!f.check && !nested && !f.keyCheck) continue;
      for (const k of keys) {
        const key = mapKey(k, f.keyType ?? 'string');
        const ep = `${p}[${JSON.stringify(String(key))}]`;
        f.keyCheck?.(key, `${ep} (key)`, out);
        const v = obj[k];
        f.check?.(v, ep, out);
        if (nested && v) walkValue(nested, f.nestedAny, v as Obj, ep, out);
      }
    }
  }
}

/** A map key as a value of its proto type (protobufjs keys objects by strings). */
function mapKey(k: string, keyType: string): unknown {
  if (keyType === 'string') return k;
  if (keyType === 'bool') return k === 'true';
  if (LONG_KINDS.has(keyType)) {
    // protobufjs keys decoded 64-bit map entries by an 8-character "long hash".
    if (/^-?\d+$/.test(k)) return BigInt(k);
    const unsigned = keyType === 'uint64' || keyType === 'fixed64';
    return toBig(protobuf.util.longFromHash(k, unsigned), unsigned);
  }
  return Number(k);
}

function walkValue(type: protobuf.Type, isAny: boolean, v: Obj, path: string, out: string[]): void {
  if (isAny) walkAny(type, v, path, out);
  else walk(type, v, path, out);
}

interface Packed {
  type: protobuf.Type;
  isAny: boolean;
}

/** Per Any type (so per Root): the message types of the type URLs seen, null if unknown. */
const packedTypes = new WeakMap<protobuf.Type, Map<string, Packed | null>>();

function packedType(anyType: protobuf.Type, url: string): Packed | null {
  let byUrl = packedTypes.get(anyType);
  if (!byUrl) {
    byUrl = new Map();
    packedTypes.set(anyType, byUrl);
  }
  let packed = byUrl.get(url);
  if (packed === undefined) {
    const t = anyType.root.lookup(url.slice(url.lastIndexOf('/') + 1));
    packed = t instanceof protobuf.Type ? { type: t, isAny: nameOf(t) === ANY } : null;
    byUrl.set(url, packed);
  }
  return packed;
}

function walkAny(anyType: protobuf.Type, v: Obj, path: string, out: string[]): void {
  const url = v['type_url'];
  if (typeof url !== 'string' || url === '') return;
  const packed = packedType(anyType, url);
  if (!packed || !needsWalk(packed.type)) return;
  let inner: Obj;
  try {
    inner = packed.type.decode((v['value'] as Uint8Array | undefined) ?? new Uint8Array(0)) as Obj;
  } catch (e) {
    out.push(`${path}: cannot decode ${url}: ${(e as Error).message}`);
    return;
  }
  walkValue(packed.type, packed.isAny, inner, path, out);
}

// ---- per-type plans ----

const plans = new WeakMap<protobuf.Type, TypePlan>();
const walkNeeded = new WeakMap<protobuf.Type, boolean>();

function planOf(type: protobuf.Type): TypePlan {
  let plan = plans.get(type);
  if (!plan) {
    plan = compileType(type);
    plans.set(type, plan);
  }
  return plan;
}

/**
 * Whether any rule (or Any field) is reachable from `type`. Computed for the whole
 * reachable, not yet known part of the type graph at once, so that recursive types
 * (a Matcher holding Matchers) come out exact.
 */
function needsWalk(type: protobuf.Type): boolean {
  const known = walkNeeded.get(type);
  if (known !== undefined) return known;
  const pending: protobuf.Type[] = [];
  const seen = new Set<protobuf.Type>();
  const stack = [type];
  while (stack.length > 0) {
    const t = stack.pop() as protobuf.Type;
    if (seen.has(t) || walkNeeded.has(t)) continue;
    seen.add(t);
    pending.push(t);
    for (const f of planOf(t).fields) if (f.nested) stack.push(f.nested);
  }
  const result = new Map<protobuf.Type, boolean>();
  for (const t of pending) result.set(t, planOf(t).ownWork || nameOf(t) === ANY);
  for (let changed = true; changed;) {
    changed = false;
    for (const t of pending) {
      if (result.get(t)) continue;
      const reaches = planOf(t).fields.some(
        (f) => f.nested !== undefined && (result.get(f.nested) ?? walkNeeded.get(f.nested)),
      );
      if (reaches) {
        result.set(t, true);
        changed = true;
      }
    }
  }
  for (const [t, r] of result) walkNeeded.set(t, r);
  return result.get(type) ?? false;
}

function optionsOf(o: protobuf.ReflectionObject, key: string): unknown {
  let found: unknown;
  for (const po of o.parsedOptions ?? []) {
    if (!(key in po)) continue;
    const v: unknown = po[key];
    found = found === undefined ? v : merge(found, v);
  }
  return found;
}

function merge(a: unknown, b: unknown): unknown {
  if (!isObj(a) || !isObj(b)) return b;
  const out: Obj = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = k in out ? merge(out[k], v) : v;
  return out;
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function compileType(type: protobuf.Type): TypePlan {
  const fields: FieldPlan[] = [];
  let ownWork = false;
  // Field number order, like the JSON printer: violations come out in a stable order.
  for (const raw of [...type.fieldsArray].sort((a, b) => a.id - b.id)) {
    const field = raw.resolve();
    const plan = compileField(field);
    if (!plan) continue;
    fields.push(plan);
    if (
      plan.required ||
      plan.check ||
      plan.listCheck ||
      plan.mapCheck ||
      plan.keyCheck ||
      plan.nestedAny
    ) {
      ownWork = true;
    }
  }
  const requiredOneofs: TypePlan['requiredOneofs'] = [];
  for (const o of type.oneofsArray) {
    if (optionsOf(o, '(validate.required)') === true) {
      requiredOneofs.push({ name: o.name, members: [...o.oneof] });
      ownWork = true;
    }
  }
  return { fields, requiredOneofs, ownWork };
}

function valueCtx(field: protobuf.Field): ValueCtx {
  const rt = field.resolvedType;
  if (rt instanceof protobuf.Type) return { msgType: rt };
  if (rt instanceof protobuf.Enum) return { enumType: rt };
  return { scalar: field.type };
}

function compileField(field: protobuf.Field): FieldPlan | undefined {
  const rules = optionsOf(field, '(validate.rules)');
  const r: Rules = isObj(rules) ? rules : {};
  const ctx = valueCtx(field);
  const kind = field.map ? 'map' : field.repeated ? 'repeated' : 'single';
  const msgRules = isObj(r['message']) ? r['message'] : {};
  const plan: FieldPlan = {
    name: field.name,
    nestedAny: false,
    kind,
    presence: field.partOf !== null && field.partOf !== undefined,
    isMessage: ctx.msgType !== undefined,
    defaultValue: field.typeDefault,
    required: msgRules['required'] === true || isRequiredKind(r),
  };
  let skipNested = msgRules['skip'] === true;
  if (kind === 'single') {
    plan.check = compileValue(r, ctx);
  } else if (kind === 'repeated' && isObj(r['repeated'])) {
    const rr = r['repeated'];
    plan.listCheck = compileRepeated(rr);
    if (isObj(rr['items'])) {
      plan.check = compileValue(rr['items'], ctx);
      const itemMsg = rr['items']['message'];
      if (isObj(itemMsg) && itemMsg['skip'] === true) skipNested = true;
    }
  } else if (kind === 'map' && isObj(r['map'])) {
    const mr = r['map'];
    const keyType = keyTypeOf(field);
    plan.mapCheck = compileMapCount(mr);
    if (isObj(mr['keys'])) plan.keyCheck = compileValue(mr['keys'], { scalar: keyType });
    if (isObj(mr['values'])) plan.check = compileValue(mr['values'], ctx);
  }
  if (kind === 'map') plan.keyType = keyTypeOf(field);
  // The well-known types carry no rules of their own; an Any's payload may.
  const msgName = ctx.msgType ? nameOf(ctx.msgType) : '';
  if (ctx.msgType && !skipNested && (msgName === ANY || !msgName.startsWith('google.protobuf.'))) {
    plan.nested = ctx.msgType;
    plan.nestedAny = msgName === ANY;
  }
  if (
    !plan.required &&
    !plan.check &&
    !plan.listCheck &&
    !plan.mapCheck &&
    !plan.keyCheck &&
    !plan.nested
  ) {
    return undefined;
  }
  return plan;
}

/** A MapField's key type (MapField is typed apart from Field in protobufjs' .d.ts). */
function keyTypeOf(field: protobuf.Field): string {
  return (field as unknown as { keyType: string }).keyType;
}

function isRequiredKind(r: Rules): boolean {
  for (const k of ['duration', 'timestamp', 'any']) {
    const kr = r[k];
    if (isObj(kr) && kr['required'] === true) return true;
  }
  return false;
}

// ---- value rules ----

function plural(n: number, word: string, words = `${word}s`): string {
  return `${n} ${n === 1 ? word : words}`;
}

function list(v: unknown): unknown[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

function quote(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

/** Combines checks; undefined when there is none. */
function all(checks: (Check | undefined)[]): Check | undefined {
  const cs = checks.filter((c): c is Check => c !== undefined);
  if (cs.length === 0) return undefined;
  if (cs.length === 1) return cs[0];
  return (v, path, out) => {
    for (const c of cs) c(v, path, out);
  };
}

/** Checks for one value under a FieldRules object (the type-specific part of it). */
function compileValue(r: Rules, ctx: ValueCtx): Check | undefined {
  const checks: (Check | undefined)[] = [];
  const wrapper = ctx.msgType && WRAPPERS.has(nameOf(ctx.msgType));
  const unwrap = (c: Check | undefined): Check | undefined =>
    c && wrapper ? (v, path, out) => c(isObj(v) ? v['value'] : undefined, path, out) : c;
  for (const [kind, kr] of Object.entries(r)) {
    if (!isObj(kr)) continue;
    if (NUMERIC_KINDS.has(kind)) checks.push(unwrap(compileNumber(kind, kr)));
    else if (kind === 'string') checks.push(unwrap(compileString(kr)));
    else if (kind === 'bytes') checks.push(unwrap(compileBytes(kr)));
    else if (kind === 'bool') checks.push(unwrap(compileBool(kr)));
    else if (kind === 'enum' && ctx.enumType) checks.push(compileEnum(kr, ctx.enumType));
    else if (kind === 'duration') checks.push(compileTime(kr, 'duration'));
    else if (kind === 'timestamp') checks.push(compileTime(kr, 'timestamp'));
    else if (kind === 'any') checks.push(compileAny(kr));
  }
  return all(checks);
}

/** A 64-bit value (Long, number, decimal string) as a BigInt, wrapped to 64 bits if `wrap`. */
function toBig(v: unknown, unsigned = false, wrap = true): bigint {
  let b: bigint;
  if (typeof v === 'bigint') b = v;
  else if (typeof v === 'number') b = Number.isFinite(v) ? BigInt(Math.trunc(v)) : 0n;
  else if (typeof v === 'string') b = BigInt(v);
  else if (isObj(v) && typeof v['low'] === 'number' && typeof v['high'] === 'number') {
    b = (BigInt((v['high'] as number) >>> 0) << 32n) | BigInt((v['low'] as number) >>> 0);
    return v['unsigned'] === true || unsigned ? BigInt.asUintN(64, b) : BigInt.asIntN(64, b);
  } else b = 0n;
  if (!wrap) return b;
  return unsigned ? BigInt.asUintN(64, b) : BigInt.asIntN(64, b);
}

type Num = number | bigint;

/** gt/gte/lt/lte as PGV reads them; render formats bounds in messages. */
function compileRange(
  kr: Rules,
  conv: (x: unknown) => Num,
  render: (x: Num) => string,
): ((v: Num) => string | undefined) | undefined {
  const gt = kr['gt'] !== undefined ? conv(kr['gt']) : undefined;
  const gte = kr['gte'] !== undefined ? conv(kr['gte']) : undefined;
  const lt = kr['lt'] !== undefined ? conv(kr['lt']) : undefined;
  const lte = kr['lte'] !== undefined ? conv(kr['lte']) : undefined;
  const lower = gt ?? gte;
  const upper = lt ?? lte;
  if (lower === undefined && upper === undefined) return undefined;
  const lowerText =
    lower === undefined
      ? ''
      : gt !== undefined
        ? `greater than ${render(lower)}`
        : `greater than or equal to ${render(lower)}`;
  const upperText =
    upper === undefined
      ? ''
      : lt !== undefined
        ? `less than ${render(upper)}`
        : `less than or equal to ${render(upper)}`;
  const aboveLower = (v: Num): boolean =>
    lower === undefined || (gt !== undefined ? v > lower : v >= lower);
  const belowUpper = (v: Num): boolean =>
    upper === undefined || (lt !== undefined ? v < upper : v <= upper);
  if (lower !== undefined && upper !== undefined && upper < lower) {
    // PGV: an upper bound below the lower bound asks for a value outside the range.
    const text = `must be ${lowerText} or ${upperText}`;
    return (v) => (aboveLower(v) || belowUpper(v) ? undefined : text);
  }
  const text = `must be ${[lowerText, upperText].filter((t) => t !== '').join(' and ')}`;
  return (v) => (aboveLower(v) && belowUpper(v) ? undefined : text);
}

function compileNumber(kind: string, kr: Rules): Check | undefined {
  const big = LONG_KINDS.has(kind);
  const unsigned = kind === 'uint64' || kind === 'fixed64';
  // Values are wrapped to their 64-bit type; rule bounds are not (protobufjs parses them
  // as JS numbers, so 2^64-1 arrives as 2^64 and must not wrap to 0).
  const conv = big
    ? (x: unknown): Num => toBig(x ?? 0, unsigned)
    : (x: unknown): Num => Number(x ?? 0);
  const ruleConv = big ? (x: unknown): Num => toBig(x, false, false) : conv;
  const render = (x: Num): string => String(x);
  const range = compileRange(kr, ruleConv, render);
  const c = kr['const'] !== undefined ? ruleConv(kr['const']) : undefined;
  const inList = list(kr['in']).map(ruleConv);
  const notIn = list(kr['not_in']).map(ruleConv);
  const ignoreEmpty = kr['ignore_empty'] === true;
  if (!range && c === undefined && inList.length === 0 && notIn.length === 0) return undefined;
  return (raw, path, out) => {
    const v = conv(raw);
    if (ignoreEmpty && (v === 0 || v === 0n)) return;
    if (c !== undefined && v !== c) out.push(`${path}: must equal ${c}, got ${v}`);
    const bad = range?.(v);
    if (bad) out.push(`${path}: ${bad}, got ${v}`);
    if (inList.length > 0 && !inList.includes(v)) {
      out.push(`${path}: must be one of [${inList.join(', ')}], got ${v}`);
    }
    if (notIn.includes(v)) out.push(`${path}: must not be one of [${notIn.join(', ')}], got ${v}`);
  };
}

/** Unicode code points (what PGV's string min_len/max_len count). */
function codePoints(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) n--;
  }
  return n;
}

// The RE2 pattern PGV uses; `+-.` is a range (it admits ',' too), kept for fidelity.
const HEADER_NAME = /^:?[0-9a-zA-Z!#$%&'*+-.^_|~`]+$/;

/** RFC 7230 field-value characters: no control characters except tab. */
function strictHeaderValue(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x08 || (c >= 0x0a && c <= 0x1f) || c === 0x7f) return false;
  }
  return true;
}

/** strict: false: only NUL, CR and LF are rejected. */
function lenientHeader(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0 || c === 0x0a || c === 0x0d) return false;
  }
  return true;
}

function isHostname(s: string): boolean {
  const h = s.endsWith('.') ? s.slice(0, -1) : s;
  if (h.length === 0 || h.length > 253) return false;
  return h
    .split('.')
    .every(
      (l) => l.length > 0 && l.length <= 63 && /^[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?$/.test(l),
    );
}

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** A PGV (RE2) pattern as a JS RegExp; undefined when JS cannot compile it. */
function re2ToRegExp(pattern: string): RegExp | undefined {
  let p = pattern;
  let flags = 'u';
  const m = /^\(\?([imsU]+)\)/.exec(p);
  if (m?.[1] && !m[1].includes('U')) {
    flags += m[1];
    p = p.slice(m[0].length);
  }
  for (const f of [flags, flags.replace('u', '')]) {
    try {
      return new RegExp(p, f);
    } catch {
      // try the next flag set
    }
  }
  return undefined;
}

function compileString(kr: Rules): Check | undefined {
  const checks: ((s: string) => string | undefined)[] = [];
  const num = (k: string): number | undefined =>
    kr[k] !== undefined ? Number(toBig(kr[k])) : undefined;
  const str = (k: string): string | undefined =>
    typeof kr[k] === 'string' ? (kr[k] as string) : undefined;
  const c = str('const');
  if (c !== undefined) checks.push((s) => (s === c ? undefined : `must equal ${quote(c)}`));
  const len = num('len');
  if (len !== undefined) {
    checks.push((s) =>
      codePoints(s) === len ? undefined : `must be exactly ${plural(len, 'character')} long`,
    );
  }
  const minLen = num('min_len');
  if (minLen !== undefined) {
    checks.push((s) =>
      // UTF-16 length bounds the code point count from above: cheap early accept.
      s.length >= minLen * 2 || codePoints(s) >= minLen
        ? undefined
        : `must be at least ${plural(minLen, 'character')} long`,
    );
  }
  const maxLen = num('max_len');
  if (maxLen !== undefined) {
    checks.push((s) =>
      s.length <= maxLen || codePoints(s) <= maxLen
        ? undefined
        : `must be at most ${plural(maxLen, 'character')} long`,
    );
  }
  const lenBytes = num('len_bytes');
  if (lenBytes !== undefined) {
    checks.push((s) =>
      Buffer.byteLength(s, 'utf8') === lenBytes
        ? undefined
        : `must be exactly ${plural(lenBytes, 'byte')} long`,
    );
  }
  const minBytes = num('min_bytes');
  if (minBytes !== undefined) {
    checks.push((s) =>
      Buffer.byteLength(s, 'utf8') >= minBytes
        ? undefined
        : `must be at least ${plural(minBytes, 'byte')} long`,
    );
  }
  const maxBytes = num('max_bytes');
  if (maxBytes !== undefined) {
    checks.push((s) =>
      s.length * 3 <= maxBytes || Buffer.byteLength(s, 'utf8') <= maxBytes
        ? undefined
        : `must be at most ${plural(maxBytes, 'byte')} long`,
    );
  }
  const pattern = str('pattern');
  const re = pattern !== undefined ? re2ToRegExp(pattern) : undefined;
  if (re) checks.push((s) => (re.test(s) ? undefined : `must match the pattern ${pattern}`));
  const prefix = str('prefix');
  if (prefix !== undefined) {
    checks.push((s) => (s.startsWith(prefix) ? undefined : `must start with ${quote(prefix)}`));
  }
  const suffix = str('suffix');
  if (suffix !== undefined) {
    checks.push((s) => (s.endsWith(suffix) ? undefined : `must end with ${quote(suffix)}`));
  }
  const contains = str('contains');
  if (contains !== undefined) {
    checks.push((s) => (s.includes(contains) ? undefined : `must contain ${quote(contains)}`));
  }
  const notContains = str('not_contains');
  if (notContains !== undefined) {
    checks.push((s) =>
      s.includes(notContains) ? `must not contain ${quote(notContains)}` : undefined,
    );
  }
  const inList = list(kr['in']).map(String);
  if (inList.length > 0) {
    const set = new Set(inList);
    const text = `must be one of [${inList.map(quote).join(', ')}]`;
    checks.push((s) => (set.has(s) ? undefined : text));
  }
  const notIn = list(kr['not_in']).map(String);
  if (notIn.length > 0) {
    const set = new Set(notIn);
    const text = `must not be one of [${notIn.map(quote).join(', ')}]`;
    checks.push((s) => (set.has(s) ? text : undefined));
  }
  const wellKnown: [string, (s: string) => boolean, string][] = [
    ['hostname', isHostname, 'a valid hostname'],
    ['ip', (s) => isIP(s) !== 0, 'a valid IP address'],
    ['ipv4', isIPv4, 'a valid IPv4 address'],
    ['ipv6', isIPv6, 'a valid IPv6 address'],
    ['address', (s) => isIP(s) !== 0 || isHostname(s), 'a valid hostname or IP address'],
    ['uri', (s) => URL.canParse(s), 'an absolute URI'],
    ['uuid', (s) => UUID.test(s), 'a UUID'],
  ];
  for (const [k, ok, what] of wellKnown) {
    if (kr[k] === true) checks.push((s) => (ok(s) ? undefined : `must be ${what}`));
  }
  const wkr = kr['well_known_regex'];
  const strict = kr['strict'] !== false;
  if (wkr === 'HTTP_HEADER_NAME' || wkr === 1) {
    checks.push(
      strict
        ? (s) => (HEADER_NAME.test(s) ? undefined : 'must be a valid HTTP header name')
        : (s) =>
            lenientHeader(s) ? undefined : 'must be a valid HTTP header name (no NUL, CR or LF)',
    );
  } else if (wkr === 'HTTP_HEADER_VALUE' || wkr === 2) {
    checks.push(
      strict
        ? (s) => (strictHeaderValue(s) ? undefined : 'must be a valid HTTP header value')
        : (s) =>
            lenientHeader(s) ? undefined : 'must be a valid HTTP header value (no NUL, CR or LF)',
    );
  }
  if (checks.length === 0) return undefined;
  const ignoreEmpty = kr['ignore_empty'] === true;
  return (raw, path, out) => {
    const s = typeof raw === 'string' ? raw : '';
    if (ignoreEmpty && s === '') return;
    for (const c of checks) {
      const bad = c(s);
      if (bad !== undefined) out.push(`${path}: ${bad}`);
    }
  };
}

/** Bytes rule values come from text format strings: one char per byte. */
function ruleBytes(v: unknown): Buffer {
  if (v instanceof Uint8Array) return Buffer.from(v);
  return Buffer.from(String(v), 'latin1');
}

function toBuffer(v: unknown): Buffer {
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (typeof v === 'string') return Buffer.from(v, 'base64');
  return Buffer.alloc(0);
}

function compileBytes(kr: Rules): Check | undefined {
  const checks: ((b: Buffer) => string | undefined)[] = [];
  const num = (k: string): number | undefined =>
    kr[k] !== undefined ? Number(toBig(kr[k])) : undefined;
  if (kr['const'] !== undefined) {
    const c = ruleBytes(kr['const']);
    checks.push((b) => (b.equals(c) ? undefined : 'must equal the given bytes'));
  }
  const len = num('len');
  if (len !== undefined) {
    checks.push((b) => (b.length === len ? undefined : `must be exactly ${plural(len, 'byte')}`));
  }
  const minLen = num('min_len');
  if (minLen !== undefined && minLen > 0) {
    checks.push((b) =>
      b.length >= minLen ? undefined : `must be at least ${plural(minLen, 'byte')} long`,
    );
  }
  const maxLen = num('max_len');
  if (maxLen !== undefined) {
    checks.push((b) =>
      b.length <= maxLen ? undefined : `must be at most ${plural(maxLen, 'byte')} long`,
    );
  }
  if (kr['prefix'] !== undefined) {
    const p = ruleBytes(kr['prefix']);
    checks.push((b) =>
      b.subarray(0, p.length).equals(p) ? undefined : 'must start with the prefix',
    );
  }
  if (kr['suffix'] !== undefined) {
    const p = ruleBytes(kr['suffix']);
    checks.push((b) =>
      b.length >= p.length && b.subarray(b.length - p.length).equals(p)
        ? undefined
        : 'must end with the suffix',
    );
  }
  if (kr['contains'] !== undefined) {
    const p = ruleBytes(kr['contains']);
    checks.push((b) => (b.includes(p) ? undefined : 'must contain the given bytes'));
  }
  const inList = list(kr['in']).map(ruleBytes);
  if (inList.length > 0) {
    checks.push((b) =>
      inList.some((x) => x.equals(b)) ? undefined : 'must be one of the given values',
    );
  }
  const notIn = list(kr['not_in']).map(ruleBytes);
  if (notIn.length > 0) {
    checks.push((b) =>
      notIn.some((x) => x.equals(b)) ? 'must not be one of the given values' : undefined,
    );
  }
  if (kr['ip'] === true) {
    checks.push((b) =>
      b.length === 4 || b.length === 16 ? undefined : 'must be an IP address in bytes',
    );
  }
  if (kr['ipv4'] === true) {
    checks.push((b) => (b.length === 4 ? undefined : 'must be an IPv4 address in bytes'));
  }
  if (kr['ipv6'] === true) {
    checks.push((b) => (b.length === 16 ? undefined : 'must be an IPv6 address in bytes'));
  }
  if (checks.length === 0) return undefined;
  const ignoreEmpty = kr['ignore_empty'] === true;
  return (raw, path, out) => {
    const b = toBuffer(raw);
    if (ignoreEmpty && b.length === 0) return;
    for (const c of checks) {
      const bad = c(b);
      if (bad !== undefined) out.push(`${path}: ${bad}`);
    }
  };
}

function compileBool(kr: Rules): Check | undefined {
  if (typeof kr['const'] !== 'boolean') return undefined;
  const c = kr['const'];
  return (raw, path, out) => {
    if ((raw === true) !== c) out.push(`${path}: must be ${c}`);
  };
}

function compileEnum(kr: Rules, enumType: protobuf.Enum): Check | undefined {
  const conv = (x: unknown): number =>
    typeof x === 'string' ? (enumType.values[x] ?? Number.NaN) : Number(x);
  const name = (n: number): string => enumType.valuesById[n] ?? String(n);
  const definedOnly = kr['defined_only'] === true;
  const c = kr['const'] !== undefined ? conv(kr['const']) : undefined;
  const inList = list(kr['in']).map(conv);
  const notIn = list(kr['not_in']).map(conv);
  if (!definedOnly && c === undefined && inList.length === 0 && notIn.length === 0)
    return undefined;
  const enumName = nameOf(enumType);
  return (raw, path, out) => {
    const v = conv(raw ?? 0);
    if (definedOnly && enumType.valuesById[v] === undefined) {
      out.push(`${path}: must be a defined ${enumName} value, got ${v}`);
    }
    if (c !== undefined && v !== c) out.push(`${path}: must equal ${name(c)}, got ${name(v)}`);
    if (inList.length > 0 && !inList.includes(v)) {
      out.push(`${path}: must be one of [${inList.map(name).join(', ')}], got ${name(v)}`);
    }
    if (notIn.includes(v)) {
      out.push(`${path}: must not be one of [${notIn.map(name).join(', ')}], got ${name(v)}`);
    }
  };
}

/** A Duration or Timestamp (message or rule value) in nanoseconds. */
function nanosOf(v: unknown): bigint {
  if (!isObj(v)) return 0n;
  return toBig(v['seconds'] ?? 0) * 1_000_000_000n + toBig(v['nanos'] ?? 0);
}

function renderDuration(n: Num): string {
  const b = BigInt(n);
  const neg = b < 0n;
  const abs = neg ? -b : b;
  const secs = abs / 1_000_000_000n;
  const frac = (abs % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${neg ? '-' : ''}${secs}${frac === '' ? '' : `.${frac}`}s`;
}

function renderTimestamp(n: Num): string {
  const b = BigInt(n);
  return new Date(Number(b / 1_000_000n)).toISOString();
}

function compileTime(kr: Rules, kind: 'duration' | 'timestamp'): Check | undefined {
  const render = kind === 'duration' ? renderDuration : renderTimestamp;
  const range = compileRange(kr, nanosOf, render);
  const c = kr['const'] !== undefined ? nanosOf(kr['const']) : undefined;
  const inList = kind === 'duration' ? list(kr['in']).map(nanosOf) : [];
  const notIn = kind === 'duration' ? list(kr['not_in']).map(nanosOf) : [];
  if (!range && c === undefined && inList.length === 0 && notIn.length === 0) return undefined;
  return (raw, path, out) => {
    if (!isObj(raw)) return; // unset: only `required` applies
    const v = nanosOf(raw);
    const got = render(v);
    if (c !== undefined && v !== c) out.push(`${path}: must equal ${render(c)}, got ${got}`);
    const bad = range?.(v);
    if (bad) out.push(`${path}: ${bad}, got ${got}`);
    if (inList.length > 0 && !inList.includes(v)) {
      out.push(`${path}: must be one of [${inList.map(render).join(', ')}], got ${got}`);
    }
    if (notIn.includes(v)) {
      out.push(`${path}: must not be one of [${notIn.map(render).join(', ')}], got ${got}`);
    }
  };
}

function compileAny(kr: Rules): Check | undefined {
  const inList = list(kr['in']).map(String);
  const notIn = list(kr['not_in']).map(String);
  if (inList.length === 0 && notIn.length === 0) return undefined;
  return (raw, path, out) => {
    if (!isObj(raw)) return;
    const url = String(raw['type_url'] ?? '');
    if (inList.length > 0 && !inList.includes(url)) {
      out.push(`${path}: type URL must be one of [${inList.join(', ')}], got ${quote(url)}`);
    }
    if (notIn.includes(url)) out.push(`${path}: type URL ${quote(url)} is not allowed`);
  };
}

/** A repeated element's identity for `unique` (undefined: not comparable, e.g. messages). */
function uniqueKey(v: unknown): string | undefined {
  if (typeof v === 'string') return `s${v}`;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return `n${v}`;
  if (v instanceof Uint8Array) return `b${Buffer.from(v).toString('base64')}`;
  if (isObj(v) && typeof v['low'] === 'number') return `n${toBig(v)}`;
  return undefined;
}

function compileRepeated(rr: Rules): FieldPlan['listCheck'] {
  const min = rr['min_items'] !== undefined ? Number(toBig(rr['min_items'])) : undefined;
  const max = rr['max_items'] !== undefined ? Number(toBig(rr['max_items'])) : undefined;
  const unique = rr['unique'] === true;
  if (min === undefined && max === undefined && !unique) return undefined;
  const ignoreEmpty = rr['ignore_empty'] === true;
  return (arr, path, out) => {
    if (ignoreEmpty && arr.length === 0) return;
    if (min !== undefined && arr.length < min) {
      out.push(`${path}: must have at least ${plural(min, 'item')}`);
    }
    if (max !== undefined && arr.length > max) {
      out.push(`${path}: must have at most ${plural(max, 'item')}`);
    }
    if (unique) {
      const seen = new Set<string>();
      for (let i = 0; i < arr.length; i++) {
        const k = uniqueKey(arr[i]);
        if (k === undefined) continue;
        if (seen.has(k)) out.push(`${path}[${i}]: must be unique, repeats ${quote(arr[i])}`);
        seen.add(k);
      }
    }
  };
}

function compileMapCount(mr: Rules): FieldPlan['mapCheck'] {
  const min = mr['min_pairs'] !== undefined ? Number(toBig(mr['min_pairs'])) : undefined;
  const max = mr['max_pairs'] !== undefined ? Number(toBig(mr['max_pairs'])) : undefined;
  if (min === undefined && max === undefined) return undefined;
  const ignoreEmpty = mr['ignore_empty'] === true;
  return (count, path, out) => {
    if (ignoreEmpty && count === 0) return;
    if (min !== undefined && count < min) {
      out.push(`${path}: must have at least ${plural(min, 'entry', 'entries')}`);
    }
    if (max !== undefined && count > max) {
      out.push(`${path}: must have at most ${plural(max, 'entry', 'entries')}`);
    }
  };
}
