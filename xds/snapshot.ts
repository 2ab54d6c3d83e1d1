// A snapshot is one node group's complete configuration, encoded once and
// shared by every gateway of the group. Versions are content hashes: the same
// configuration has the same versions on every controller replica and after
// restarts, so a reconnecting gateway is not sent what it already has.
import { createHash } from 'node:crypto';
import type protobuf from 'protobufjs';
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

export interface Snapshot {
  nodeGroup: string;
  /** Hash of every type's version: the configuration version gateways report applying. */
  version: string;
  types: Map<TypeUrlValue, TypeSnapshot>;
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

export function buildSnapshot(nodeGroup: string, resources: ResourcesByType): Snapshot {
  const types = new Map<TypeUrlValue, TypeSnapshot>();
  for (const typeUrl of PUSH_ORDER) {
    const map = new Map<string, EncodedResource>();
    const namedOnly = new Map<string, EncodedResource>();
    const parts: string[] = [];
    for (const { name, resource, namedOnly: onlyNamed } of resources.get(typeUrl) ?? []) {
      const bytes = encodeResource(typeUrl, resource);
      const version = hash(bytes);
      (onlyNamed ? namedOnly : map).set(name, { name, version, bytes });
      parts.push(name, version);
    }
    types.set(typeUrl, { version: hash(typeUrl, ...parts), resources: map, namedOnly });
  }
  const version = hash(...PUSH_ORDER.map((t) => types.get(t)!.version));
  return { nodeGroup, version, types };
}
