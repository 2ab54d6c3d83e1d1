// The canonical proto3 JSON mapping (https://protobuf.dev/programming-guides/proto3/#json)
// of messages decoded (or built) with protobufjs, for config dumps, golden files and
// debugging. Self-contained: it only needs the message's protobufjs Type (Any payloads are
// looked up in that Type's Root).
//
// What it prints:
// - keys are the fields' JSON names (lowerCamelCase of the proto name, or an explicit
//   json_name), in field number order;
// - proto3 scalars without presence are omitted at their default value; oneof members,
//   proto3 `optional` / proto2 fields and message fields are printed whenever set;
//   empty repeated and map fields are omitted;
// - enums as their value names (numbers for values the enum does not define;
//   google.protobuf.NullValue as null), 64-bit integers as decimal strings, bytes as
//   standard base64 with padding, NaN/±Infinity as "NaN"/"Infinity"/"-Infinity", floats
//   with the shortest decimal form that round-trips through float32;
// - maps as objects whose keys are sorted (so equal maps print equally whatever the
//   insertion order);
// - the well-known types in their special forms: Duration ("1.500s"), Timestamp (RFC 3339,
//   "Z"), FieldMask ("a.b,c"), the wrappers (their plain value; Int64Value/UInt64Value as
//   strings), Struct/Value/ListValue (plain JSON), Empty ({}), and Any as
//   {"@type": url, ...fields of the packed message} or, when the packed type has a special
//   form itself (Duration, wrappers, Struct, Any, ...), {"@type": url, "value": <form>}.
//
// Like the reference printers it throws (an Error naming the offending type) for what has
// no JSON form: a Duration or Timestamp out of range, an Any whose type the Root does not
// know or whose bytes do not decode, a Value without a kind or with a non-finite number.
import protobuf from 'protobufjs';

type Obj = Record<string, unknown>;

interface LongLike {
  low: number;
  high: number;
  unsigned?: boolean;
}

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

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

/** Well-known types whose JSON form is not a plain object of their fields. */
const SPECIAL = new Set([
  ...WRAPPERS,
  'google.protobuf.Any',
  'google.protobuf.Duration',
  'google.protobuf.Timestamp',
  'google.protobuf.FieldMask',
  'google.protobuf.Struct',
  'google.protobuf.Value',
  'google.protobuf.ListValue',
]);

const LONG_TYPES = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);
const UNSIGNED_LONG_TYPES = new Set(['uint64', 'fixed64']);

/** A Type's name without the leading dot protobufjs puts on fullName. */
function nameOf(type: protobuf.ReflectionObject): string {
  const n = type.fullName;
  return n.startsWith('.') ? n.slice(1) : n;
}

const fieldsByNumber = new WeakMap<protobuf.Type, protobuf.Field[]>();

function sortedFields(type: protobuf.Type): protobuf.Field[] {
  let fields = fieldsByNumber.get(type);
  if (!fields) {
    fields = type.fieldsArray.map((f) => f.resolve()).sort((a, b) => a.id - b.id);
    fieldsByNumber.set(type, fields);
  }
  return fields;
}

/**
 * Prints a message in the canonical proto3 JSON mapping. `message` is a decoded message
 * of `type`, or a plain object in protobufjs' fromObject form (it is converted first).
 */
export function toProto3Json(type: protobuf.Type, message: protobuf.Message | object): unknown {
  const m = message instanceof type.ctor ? message : type.fromObject(message as Obj);
  return printMessage(type, m as unknown as Obj);
}

/** Decodes `bytes` as a `type` message and prints it like {@link toProto3Json}. */
export function fromBytes(type: protobuf.Type, bytes: Uint8Array): unknown {
  return printMessage(type, type.decode(bytes) as unknown as Obj);
}

/** Per Type: its name when it has a special JSON form, else null (fullName is not cheap). */
const specialNames = new WeakMap<protobuf.Type, string | null>();

function specialName(type: protobuf.Type): string | null {
  let name = specialNames.get(type);
  if (name === undefined) {
    const n = nameOf(type);
    name = SPECIAL.has(n) ? n : null;
    specialNames.set(type, name);
  }
  return name;
}

function printMessage(type: protobuf.Type, m: Obj): unknown {
  const name = specialName(type);
  if (name !== null) return printSpecial(type, name, m);
  const out: Obj = {};
  for (const field of sortedFields(type)) {
    const key = field.name;
    if (!hasOwn(m, key)) continue;
    const v = m[key];
    if (v === undefined || v === null) continue;
    if (field.map) {
      const entries = Object.keys(v as Obj);
      if (entries.length === 0) continue;
      out[field.jsonName] = printMap(field, v as Obj, entries);
    } else if (field.repeated) {
      const arr = v as unknown[];
      if (arr.length === 0) continue;
      out[field.jsonName] = arr.map((e) => printValue(field, e));
    } else {
      const presence = field.resolvedType instanceof protobuf.Type || field.hasPresence;
      if (!presence && isDefault(field, v)) continue;
      out[field.jsonName] = printValue(field, v);
    }
  }
  return out;
}

function isDefault(field: protobuf.Field, v: unknown): boolean {
  switch (typeof v) {
    case 'string':
      return v === ''; // also bytes given as base64
    case 'number':
      return Object.is(v, 0);
    case 'boolean':
      return v === false;
    case 'bigint':
      return v === 0n;
    case 'object':
      if (v instanceof Uint8Array) return v.length === 0;
      if (isLong(v)) return v.low === 0 && v.high === 0;
      return false;
    default:
      return false;
  }
}

function isLong(v: unknown): v is LongLike {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as LongLike).low === 'number' &&
    typeof (v as LongLike).high === 'number'
  );
}

/** A 64-bit value in any of protobufjs' forms (Long, number, decimal string) as a BigInt. */
function toBigInt(v: unknown, unsigned: boolean): bigint {
  let b: bigint;
  if (typeof v === 'bigint') b = v;
  else if (typeof v === 'number') b = BigInt(Math.trunc(v));
  else if (typeof v === 'string') b = BigInt(v);
  else if (isLong(v)) b = (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
  else throw new TypeError(`not a 64-bit integer: ${String(v)}`);
  return unsigned ? BigInt.asUintN(64, b) : BigInt.asIntN(64, b);
}

function printMap(field: protobuf.Field, v: Obj, keys: string[]): Obj {
  // A MapField (typed apart from Field in protobufjs' .d.ts).
  const keyType = (field as unknown as { keyType: string }).keyType;
  const longKey = LONG_TYPES.has(keyType);
  const unsignedKey = UNSIGNED_LONG_TYPES.has(keyType);
  const numericKey = keyType !== 'string' && keyType !== 'bool';
  const entries = keys.map((k): [string, string] => {
    // protobufjs keys decoded 64-bit map entries by an 8-character "long hash".
    if (longKey && !/^-?\d+$/.test(k)) {
      return [toBigInt(protobuf.util.longFromHash(k, unsignedKey), unsignedKey).toString(), k];
    }
    return [k, k];
  });
  entries.sort(([a], [b]) =>
    numericKey
      ? BigInt(a) < BigInt(b)
        ? -1
        : BigInt(a) > BigInt(b)
          ? 1
          : 0
      : a < b
        ? -1
        : a > b
          ? 1
          : 0,
  );
  const out: Obj = {};
  for (const [jsonKey, k] of entries) out[jsonKey] = printValue(field, v[k]);
  return out;
}

/** One value of `field` (a singular value, a repeated element or a map value). */
function printValue(field: protobuf.Field, v: unknown): unknown {
  const rt = field.resolvedType;
  if (rt instanceof protobuf.Type) return printMessage(rt, (v ?? {}) as Obj);
  if (rt instanceof protobuf.Enum) {
    if (rt.name === 'NullValue' && rt.fullName === '.google.protobuf.NullValue') return null;
    if (typeof v === 'string') return v;
    return rt.valuesById[v as number] ?? v;
  }
  return printScalar(field.type, v);
}

function printScalar(type: string, v: unknown): unknown {
  switch (type) {
    case 'double':
      return printDouble(v as number);
    case 'float':
      return printFloat(v as number);
    case 'int64':
    case 'sint64':
    case 'sfixed64':
      return toBigInt(v ?? 0, false).toString();
    case 'uint64':
    case 'fixed64':
      return toBigInt(v ?? 0, true).toString();
    case 'bytes':
      return printBytes(v);
    case 'bool':
      return v === true;
    case 'string':
      return v ?? '';
    default: // 32-bit integers
      return typeof v === 'number' ? v : Number(v ?? 0);
  }
}

function printDouble(v: number | undefined): number | string {
  const n = v ?? 0;
  if (Number.isFinite(n)) return n;
  return Number.isNaN(n) ? 'NaN' : n > 0 ? 'Infinity' : '-Infinity';
}

/** The shortest decimal that reads back as the same float32 (0.1f prints as 0.1). */
function printFloat(v: number | undefined): number | string {
  const n = v ?? 0;
  if (!Number.isFinite(n) || Math.fround(n) !== n) return printDouble(n);
  for (let p = 1; p <= 9; p++) {
    const short = Number(n.toPrecision(p));
    if (Math.fround(short) === n) return short;
  }
  return n;
}

function printBytes(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v; // already base64 (plain-object form)
  const u = v as Uint8Array;
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString('base64');
}

// ---- well-known types ----

function printSpecial(type: protobuf.Type, name: string, m: Obj): unknown {
  if (WRAPPERS.has(name)) {
    const field = type.fields['value'];
    if (!field) throw new Error(`${name}: no value field`);
    return printScalar(field.type, hasOwn(m, 'value') ? m['value'] : undefined);
  }
  switch (name) {
    case 'google.protobuf.Duration':
      return printDuration(m);
    case 'google.protobuf.Timestamp':
      return printTimestamp(m);
    case 'google.protobuf.FieldMask':
      return ((m['paths'] as string[] | undefined) ?? []).map(snakeToCamel).join(',');
    case 'google.protobuf.Struct':
      return printStruct(type, m);
    case 'google.protobuf.ListValue':
      return printList(type, m);
    case 'google.protobuf.Value':
      return printStructValue(type, m);
    case 'google.protobuf.Any':
      return printAny(type, m);
    default:
      throw new Error(`no special JSON form for ${name}`);
  }
}

const MAX_DURATION_SECONDS = 315_576_000_000n;

function printDuration(m: Obj): string {
  const seconds = toBigInt(m['seconds'] ?? 0, false);
  const nanos = Number(m['nanos'] ?? 0);
  if (
    seconds > MAX_DURATION_SECONDS ||
    seconds < -MAX_DURATION_SECONDS ||
    !Number.isInteger(nanos) ||
    nanos <= -1e9 ||
    nanos >= 1e9 ||
    (seconds > 0n && nanos < 0) ||
    (seconds < 0n && nanos > 0)
  ) {
    throw new Error(`google.protobuf.Duration out of range: ${seconds}s ${nanos}ns`);
  }
  const negative = seconds < 0n || nanos < 0;
  const abs = negative ? -seconds : seconds;
  return `${negative ? '-' : ''}${abs}${fraction(Math.abs(nanos))}s`;
}

/** "", ".500", ".000500" or ".000000500": 0, 3, 6 or 9 digits, as the spec asks. */
function fraction(nanos: number): string {
  if (nanos === 0) return '';
  const nine = String(nanos).padStart(9, '0');
  if (nanos % 1_000_000 === 0) return `.${nine.slice(0, 3)}`;
  if (nanos % 1_000 === 0) return `.${nine.slice(0, 6)}`;
  return `.${nine}`;
}

const MIN_TIMESTAMP_SECONDS = -62_135_596_800n; // 0001-01-01T00:00:00Z
const MAX_TIMESTAMP_SECONDS = 253_402_300_799n; // 9999-12-31T23:59:59Z

function printTimestamp(m: Obj): string {
  const seconds = toBigInt(m['seconds'] ?? 0, false);
  const nanos = Number(m['nanos'] ?? 0);
  if (
    seconds < MIN_TIMESTAMP_SECONDS ||
    seconds > MAX_TIMESTAMP_SECONDS ||
    !Number.isInteger(nanos) ||
    nanos < 0 ||
    nanos >= 1e9
  ) {
    throw new Error(`google.protobuf.Timestamp out of range: ${seconds}s ${nanos}ns`);
  }
  const iso = new Date(Number(seconds) * 1000).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  return `${iso.slice(0, 19)}${fraction(nanos)}Z`;
}

function snakeToCamel(path: string): string {
  return path.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
}

function valueType(type: protobuf.Type, fieldName: string): protobuf.Type {
  const rt = type.fields[fieldName]?.resolve().resolvedType;
  if (!(rt instanceof protobuf.Type))
    throw new Error(`${nameOf(type)}.${fieldName}: not a message`);
  return rt;
}

function printStruct(type: protobuf.Type, m: Obj): Obj {
  const fields = (m['fields'] ?? {}) as Obj;
  const vt = valueType(type, 'fields');
  const out: Obj = {};
  for (const k of Object.keys(fields).sort())
    out[k] = printStructValue(vt, (fields[k] ?? {}) as Obj);
  return out;
}

function printList(type: protobuf.Type, m: Obj): unknown[] {
  const vt = valueType(type, 'values');
  return ((m['values'] ?? []) as Obj[]).map((v) => printStructValue(vt, v ?? {}));
}

/** google.protobuf.Value's kinds by proto name (protobufjs' built-in Value is camelCase). */
const valueKinds = new WeakMap<protobuf.Type, [string, protobuf.Field][]>();

function kindsOf(type: protobuf.Type): [string, protobuf.Field][] {
  let kinds = valueKinds.get(type);
  if (!kinds) {
    kinds = type.fieldsArray.map((f): [string, protobuf.Field] => {
      const field = f.resolve();
      return [field.protoName ?? field.name, field];
    });
    valueKinds.set(type, kinds);
  }
  return kinds;
}

function printStructValue(type: protobuf.Type, m: Obj): unknown {
  for (const [kind, field] of kindsOf(type)) {
    if (!hasOwn(m, field.name)) continue;
    const v = m[field.name];
    if (v === undefined || v === null) continue;
    switch (kind) {
      case 'null_value':
        return null;
      case 'number_value':
        if (!Number.isFinite(v)) {
          throw new Error(`google.protobuf.Value: number ${String(v)} has no JSON form`);
        }
        return v;
      case 'string_value':
      case 'bool_value':
        return v;
      case 'struct_value':
      case 'list_value':
        return printMessage(field.resolvedType as protobuf.Type, v as Obj);
    }
  }
  throw new Error('google.protobuf.Value: no kind is set');
}

/** Per Any type (so per Root): the message types of the type URLs seen, null if unknown. */
const packedTypes = new WeakMap<protobuf.Type, Map<string, protobuf.Type | null>>();

function packedType(anyType: protobuf.Type, url: string): protobuf.Type | null {
  let byUrl = packedTypes.get(anyType);
  if (!byUrl) {
    byUrl = new Map();
    packedTypes.set(anyType, byUrl);
  }
  let packed = byUrl.get(url);
  if (packed === undefined) {
    const t = anyType.root.lookup(url.slice(url.lastIndexOf('/') + 1));
    packed = t instanceof protobuf.Type ? t : null;
    byUrl.set(url, packed);
  }
  return packed;
}

function printAny(type: protobuf.Type, m: Obj): Obj {
  const url = (m['type_url'] as string | undefined) ?? '';
  const value = (m['value'] as Uint8Array | undefined) ?? new Uint8Array(0);
  if (url === '') {
    if (value.length === 0) return {};
    throw new Error('google.protobuf.Any: value without a type_url');
  }
  const packed = packedType(type, url);
  if (!packed) {
    throw new Error(`google.protobuf.Any: unknown type ${url}`);
  }
  let inner: Obj;
  try {
    inner = packed.decode(value) as unknown as Obj;
  } catch (e) {
    throw new Error(`google.protobuf.Any: cannot decode ${url}: ${(e as Error).message}`);
  }
  const printed = printMessage(packed, inner);
  if (specialName(packed) !== null) return { '@type': url, value: printed };
  return { '@type': url, ...(printed as Obj) };
}
