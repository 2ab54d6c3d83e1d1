// Checks an Envoy bootstrap the way Envoy loads one: the YAML/JSON is read
// with the proto3 JSON mapping against envoy.config.bootstrap.v3.Bootstrap,
// strictly (an unknown field, a value of the wrong type, an enum name the
// enum does not define, an Any of an unknown type or two members of one oneof
// are errors, as they make Envoy refuse to start), then the result is checked
// against the protoc-gen-validate rules Envoy applies next (xds/proto/
// validate.ts). Field names may be the proto names or their JSON names, as
// Envoy accepts both. The protos are the copy @grpc/grpc-js-xds ships, loaded
// like xds/proto/root.ts loads them, plus bootstrap.proto.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { PROTO_FILES, protoIncludeDirs } from '../../xds/proto/root.js';
import { validateMessage } from '../../xds/proto/validate.js';

type Obj = Record<string, unknown>;

const BOOTSTRAP = 'envoy.config.bootstrap.v3.Bootstrap';

let root: protobuf.Root | undefined;

function bootstrapRoot(): protobuf.Root {
  if (root) return root;
  const dirs = protoIncludeDirs();
  const r = new protobuf.Root();
  r.resolvePath = (_origin: string, target: string): string => {
    for (const d of dirs) {
      const p = join(d, target);
      if (existsSync(p)) return p;
    }
    return target;
  };
  r.loadSync([...PROTO_FILES, 'envoy/config/bootstrap/v3/bootstrap.proto'], { keepCase: true });
  r.resolveAll();
  root = r;
  return r;
}

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const INT32 = new Set(['int32', 'sint32', 'sfixed32']);
const UINT32 = new Set(['uint32', 'fixed32']);
const INT64 = new Set(['int64', 'sint64', 'sfixed64', 'uint64', 'fixed64']);

function fullName(t: protobuf.ReflectionObject): string {
  return t.fullName.replace(/^\./, '');
}

/** A proto3 JSON scalar → the fromObject value, or an error text. */
function scalar(type: string, v: unknown): { value?: unknown; error?: string } {
  if (type === 'string')
    return typeof v === 'string'
      ? { value: v }
      : { error: `expected a string, got ${JSON.stringify(v)}` };
  if (type === 'bool')
    return typeof v === 'boolean'
      ? { value: v }
      : { error: `expected true or false, got ${JSON.stringify(v)}` };
  if (type === 'bytes')
    return typeof v === 'string' && /^[A-Za-z0-9+/_-]*={0,2}$/.test(v)
      ? { value: v }
      : { error: 'expected base64 bytes' };
  if (type === 'double' || type === 'float') {
    if (
      typeof v === 'number' ||
      (typeof v === 'string' && /^(NaN|-?Infinity|-?\d+(\.\d+)?([eE][-+]?\d+)?)$/.test(v))
    )
      return { value: Number(v) };
    return { error: `expected a number, got ${JSON.stringify(v)}` };
  }
  const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n))
    return { error: `expected an integer, got ${JSON.stringify(v)}` };
  if (INT32.has(type) && (n < -(2 ** 31) || n >= 2 ** 31))
    return { error: `${n} is out of int32 range` };
  if (UINT32.has(type) && (n < 0 || n >= 2 ** 32)) return { error: `${n} is out of uint32 range` };
  if (INT64.has(type) && type.startsWith('u') && n < 0) return { error: `${n} is negative` };
  return { value: n };
}

const WRAPPER_SCALAR: Record<string, string> = {
  'google.protobuf.DoubleValue': 'double',
  'google.protobuf.FloatValue': 'float',
  'google.protobuf.Int64Value': 'int64',
  'google.protobuf.UInt64Value': 'uint64',
  'google.protobuf.Int32Value': 'int32',
  'google.protobuf.UInt32Value': 'uint32',
  'google.protobuf.BoolValue': 'bool',
  'google.protobuf.StringValue': 'string',
  'google.protobuf.BytesValue': 'bytes',
};

class Reader {
  readonly errors: string[] = [];

  constructor(private readonly r: protobuf.Root) {}

  private fail(path: string, msg: string): undefined {
    this.errors.push(`${path || '(root)'}: ${msg}`);
    return undefined;
  }

  message(type: protobuf.Type, v: unknown, path: string): unknown {
    const name = fullName(type);
    const wrapped = WRAPPER_SCALAR[name];
    if (wrapped) {
      const s = scalar(wrapped, v);
      return s.error ? this.fail(path, s.error) : { value: s.value };
    }
    switch (name) {
      case 'google.protobuf.Duration': {
        const m = typeof v === 'string' ? /^(-?)(\d+)(?:\.(\d{1,9}))?s$/.exec(v) : null;
        if (!m) return this.fail(path, `expected a duration like "1.5s", got ${JSON.stringify(v)}`);
        const sign = m[1] ? -1 : 1;
        return { seconds: sign * Number(m[2]), nanos: sign * Number((m[3] ?? '').padEnd(9, '0')) };
      }
      case 'google.protobuf.Struct':
        return isObj(v) ? { fields: this.structFields(v) } : this.fail(path, 'expected an object');
      case 'google.protobuf.Value':
        return this.value(v);
      case 'google.protobuf.Any':
        return this.any(v, path);
    }
    if (!isObj(v)) return this.fail(path, `expected an object for ${name}`);
    const out: Obj = {};
    const oneofs = new Map<string, string>();
    for (const [key, raw] of Object.entries(v)) {
      const field = type.fieldsArray.find((f) => f.name === key || f.jsonName === key);
      const at = path ? `${path}.${key}` : key;
      if (!field) {
        this.fail(at, `unknown field of ${name}`);
        continue;
      }
      field.resolve();
      if (field.partOf) {
        const other = oneofs.get(field.partOf.name);
        if (other) this.fail(at, `${other} is already set in oneof ${field.partOf.name}`);
        oneofs.set(field.partOf.name, key);
      }
      const converted = this.field(field, raw, at);
      if (converted !== undefined) out[field.name] = converted;
    }
    return out;
  }

  private field(field: protobuf.Field, raw: unknown, path: string): unknown {
    if (field.map) {
      if (!isObj(raw)) return this.fail(path, 'expected an object (map)');
      const out: Obj = {};
      for (const [k, item] of Object.entries(raw))
        out[k] = this.single(field, item, `${path}["${k}"]`);
      return out;
    }
    if (field.repeated) {
      if (!Array.isArray(raw)) return this.fail(path, 'expected a list');
      return raw.map((item, i) => this.single(field, item, `${path}[${i}]`));
    }
    return this.single(field, raw, path);
  }

  private single(field: protobuf.Field, raw: unknown, path: string): unknown {
    const t = field.resolvedType;
    if (t instanceof protobuf.Type) return this.message(t, raw, path);
    if (t instanceof protobuf.Enum) {
      if (typeof raw === 'string' && raw in t.values) return raw;
      if (typeof raw === 'number' && Object.values(t.values).includes(raw)) return raw;
      return this.fail(path, `${JSON.stringify(raw)} is not a value of ${fullName(t)}`);
    }
    const s = scalar(field.type, raw);
    return s.error ? this.fail(path, s.error) : s.value;
  }

  private any(v: unknown, path: string): unknown {
    if (!isObj(v) || typeof v['@type'] !== 'string')
      return this.fail(path, 'an Any needs an "@type"');
    const url = v['@type'];
    let payload: protobuf.Type;
    try {
      payload = this.r.lookupType(url.slice(url.lastIndexOf('/') + 1));
    } catch {
      return this.fail(path, `unknown type ${url}`);
    }
    const rest = { ...v };
    delete rest['@type'];
    const special = fullName(payload).startsWith('google.protobuf.');
    const body = this.message(payload, special ? rest.value : rest, path);
    if (body === undefined) return undefined;
    // protobufjs' Any.fromObject encodes `@type` + the payload's fields.
    return { '@type': url, ...(body as Obj) };
  }

  private structFields(v: Obj): Obj {
    const out: Obj = {};
    for (const [k, item] of Object.entries(v)) out[k] = this.value(item);
    return out;
  }

  private value(v: unknown): Obj {
    if (v === null) return { null_value: 'NULL_VALUE' };
    if (typeof v === 'number') return { number_value: v };
    if (typeof v === 'string') return { string_value: v };
    if (typeof v === 'boolean') return { bool_value: v };
    if (Array.isArray(v)) return { list_value: { values: v.map((i) => this.value(i)) } };
    return { struct_value: { fields: this.structFields(v as Obj) } };
  }
}

/** Problems Envoy would refuse the bootstrap (a parsed YAML/JSON object) for; [] when it loads. */
export function checkEnvoyBootstrap(bootstrap: unknown): string[] {
  const r = bootstrapRoot();
  const type = r.lookupType(BOOTSTRAP);
  const reader = new Reader(r);
  const converted = reader.message(type, bootstrap, '');
  if (reader.errors.length > 0 || converted === undefined) return reader.errors;
  const message = type.fromObject(converted as Obj);
  // What Envoy would hold after parsing must survive the wire format unchanged.
  const decoded = type.decode(type.encode(message).finish());
  const roundTrip =
    JSON.stringify(type.toObject(decoded, { longs: String })) ===
    JSON.stringify(type.toObject(message, { longs: String }));
  return [
    ...(roundTrip ? [] : ['the bootstrap changes through encoding']),
    ...validateMessage(type, message),
  ];
}
