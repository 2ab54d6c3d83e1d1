// A snapshot is one node group's complete configuration, encoded once and
// shared by every gateway of the group. Versions are content hashes: the same
// configuration has the same versions on every controller replica and after
// restarts, so a reconnecting gateway is not sent what it already has.
import { createHash } from 'node:crypto';
import type protobuf from 'protobufjs';
import type { NodeGroup } from '../controller/ir/types.js';
import { PUSH_ORDER, typeOfUrl, type TypeUrlValue } from './proto/root.js';
import type { ResourcesByType } from './resources/index.js';

export interface EncodedResource {
  name: string;
  /** Content hash of the encoded resource. */
  version: string;
  /** The serialized resource (the `value` of its Any). */
  bytes: Uint8Array;
}

export interface TypeSnapshot {
  /** Hash of every name and version of this type. */
  version: string;
  /** What every subscription, wildcard included, gets. */
  resources: Map<string, EncodedResource>;
  /** What only clients naming it get (API listeners for proxyless gRPC). */
  namedOnly: Map<string, EncodedResource>;
}

/** A resource by name, whichever set it is in. */
export function lookup(ts: TypeSnapshot, name: string): EncodedResource | undefined {
  return ts.resources.get(name) ?? ts.namedOnly.get(name);
}

export interface TypeChange {
  /** Names added or changed since the previous snapshot of the group. */
  changed: Set<string>;
  /** Names gone since the previous snapshot of the group. */
  removed: Set<string>;
}

type Encoded = { bytes: Uint8Array; version: string };

export interface Snapshot {
  nodeGroup: string;
  /** Hash of every type's version: the configuration version gateways report applying. */
  version: string;
  types: Map<TypeUrlValue, TypeSnapshot>;
  /** The IR node group (and fleet addresses, as JSON) it was built from: an unchanged group is not rebuilt. */
  source?: { group: NodeGroup; addresses: string };
  /** What changed since the group's previous snapshot (set when it is published). */
  since?: { version: string; types: Map<TypeUrlValue, TypeChange> };
  /** Per type, responses already planned for a subscription key (shared by streams). */
  plans?: Map<string, unknown>;
  /** Encoded resources by content, for the group's next snapshot. */
  memo?: ReadonlyMap<string, Encoded>;
}

/** What changed per type between two snapshots of a group. */
export function changesBetween(prev: Snapshot, next: Snapshot): Map<TypeUrlValue, TypeChange> {
  const out = new Map<TypeUrlValue, TypeChange>();
  for (const [t, ts] of next.types) {
    const before = prev.types.get(t)!;
    const change: TypeChange = { changed: new Set(), removed: new Set() };
    if (before.version !== ts.version) {
      for (const map of [ts.resources, ts.namedOnly]) {
        for (const r of map.values())
          if (lookup(before, r.name)?.version !== r.version) change.changed.add(r.name);
      }
      for (const map of [before.resources, before.namedOnly]) {
        for (const name of map.keys()) if (!lookup(ts, name)) change.removed.add(name);
      }
    }
    out.set(t, change);
  }
  return out;
}

export function hash(...parts: (string | Uint8Array)[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex').slice(0, 16);
}

const typeCache = new Map<string, protobuf.Type>();

export function encodeResource(typeUrl: string, resource: Record<string, unknown>): Uint8Array {
  let t = typeCache.get(typeUrl);
  if (!t) typeCache.set(typeUrl, (t = typeOfUrl(typeUrl)));
  checkAnyTypes(resource);
  return t.encode(t.fromObject(resource)).finish();
}

const knownTypes = new Set<string>();

/**
 * protobufjs packs an Any whose type it does not know as an empty Any,
 * silently; a resource must never lose configuration that way.
 */
function checkAnyTypes(v: unknown): void {
  if (Array.isArray(v)) {
    for (const x of v) checkAnyTypes(x);
    return;
  }
  if (!v || typeof v !== 'object' || v instanceof Uint8Array) return;
  const url = (v as Record<string, unknown>)['@type'];
  if (typeof url === 'string' && !knownTypes.has(url)) {
    typeOfUrl(url); // throws for an unknown type
    knownTypes.add(url);
  }
  for (const x of Object.values(v)) checkAnyTypes(x);
}

/** Encodings by resource object: resource objects are never modified once built. */
const encodedResources = new WeakMap<object, Encoded>();
const encodedPieces = new WeakMap<object, Encoded>();

/**
 * Encoded resources by content. A group's new snapshot starts from its
 * previous snapshot's memo, so a resource whose object did not change is not
 * encoded again.
 */
export class EncodeMemo {
  readonly entries = new Map<string, Encoded>();

  constructor(private readonly previous?: ReadonlyMap<string, Encoded>) {}

  get(typeUrl: string, resource: Record<string, unknown>): Encoded {
    if (typeUrl === ROUTE_CONFIGURATION_URL && Array.isArray(resource.virtual_hosts)) {
      const bytes = this.routeConfiguration(resource);
      return { bytes, version: hash(bytes) };
    }
    return this.encoded(typeUrl, resource);
  }

  /** `piece`: part of a resource, whose version nobody reads (not hashed). */
  private encoded(typeUrl: string, message: Record<string, unknown>, piece = false): Encoded {
    // The resource builders return the same object for the same IR object
    // (xds/resources), so most resources of a changed group are found here
    // without serialising them.
    const byObject = piece ? encodedPieces : encodedResources;
    const known = byObject.get(message);
    if (known) return known;
    // The key is the content itself, not a digest of it: hashing every
    // resource's JSON with SHA-256 on every translation cost more than the
    // memory the strings take (measured: ~60 ms of a one-route change at
    // 5,000 routes). Map lookups compare the strings exactly.
    const key = `${typeUrl}\0${JSON.stringify(message)}`;
    let e = this.entries.get(key) ?? this.previous?.get(key);
    if (!e) {
      const bytes = encodeResource(typeUrl, message);
      e = { bytes, version: piece ? '' : hash(bytes) };
    }
    this.entries.set(key, e);
    byObject.set(message, e);
    return e;
  }

  /**
   * A RouteConfiguration holds every virtual host of its listener, so one
   * new route would re-encode megabytes: its virtual hosts are encoded (and
   * memoised) one by one and spliced into the message. protobufjs writes
   * fields in declaration order (name = 1, virtual_hosts = 2, then the
   * rest), so the result is byte for byte what encoding the whole message
   * gives (test/xds/snapshot-encoding.test.ts).
   */
  private routeConfiguration(rc: Record<string, unknown>): Uint8Array {
    const { name, virtual_hosts, ...rest } = rc as {
      name?: unknown;
      virtual_hosts: Record<string, unknown>[];
    };
    const parts: Uint8Array[] = [];
    if (name !== undefined) parts.push(this.encoded(ROUTE_CONFIGURATION_URL, { name }, true).bytes);
    for (const vh of virtual_hosts) {
      const b = this.encoded(VIRTUAL_HOST_URL, vh, true).bytes;
      parts.push(lengthDelimited(VIRTUAL_HOSTS_FIELD, b.length), b);
    }
    parts.push(this.encoded(ROUTE_CONFIGURATION_URL, rest, true).bytes);
    return Buffer.concat(parts);
  }
}

const ROUTE_CONFIGURATION_URL = 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration';
const VIRTUAL_HOST_URL = 'type.googleapis.com/envoy.config.route.v3.VirtualHost';
const VIRTUAL_HOSTS_FIELD = 2;

/** The tag and length of a length-delimited field. */
function lengthDelimited(field: number, length: number): Uint8Array {
  const out = [(field << 3) | 2];
  let n = length;
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Uint8Array.from(out);
}

export function buildSnapshot(
  nodeGroup: string,
  resources: ResourcesByType,
  memo?: EncodeMemo,
): Snapshot {
  const types = new Map<TypeUrlValue, TypeSnapshot>();
  for (const typeUrl of PUSH_ORDER) {
    const map = new Map<string, EncodedResource>();
    const namedOnly = new Map<string, EncodedResource>();
    const parts: string[] = [];
    for (const { name, resource, namedOnly: onlyNamed } of resources.get(typeUrl) ?? []) {
      let encoded: Encoded;
      if (memo) encoded = memo.get(typeUrl, resource);
      else {
        const b = encodeResource(typeUrl, resource);
        encoded = { bytes: b, version: hash(b) };
      }
      const { bytes, version } = encoded;
      (onlyNamed ? namedOnly : map).set(name, { name, version, bytes });
      parts.push(name, version);
    }
    types.set(typeUrl, { version: hash(typeUrl, ...parts), resources: map, namedOnly });
  }
  const version = hash(...PUSH_ORDER.map((t) => types.get(t)!.version));
  return { nodeGroup, version, types, ...(memo ? { memo: memo.entries } : {}) };
}
