// fast-check arbitraries driven by the CRDs' OpenAPI schemas: every generated
// object satisfies its CRD's structural schema (types, enums, patterns,
// bounds, required fields), while names come from a small pool so references
// between objects often resolve. CEL rules are deliberately not applied:
// the translator must survive whatever the API server might let through.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parse } from 'yaml';

export interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  additionalProperties?: JsonSchema | boolean;
  'x-kubernetes-int-or-string'?: boolean;
}

const CRD_DIR = join(import.meta.dirname, '../../controller/apis/crds/gateway-api/experimental');

export function crdSpecSchema(file: string): JsonSchema {
  const crd = parse(readFileSync(join(CRD_DIR, file), 'utf8'));
  const v = crd.spec.versions.find((x: { name: string }) => x.name === 'v1');
  return v.schema.openAPIV3Schema.properties.spec as JsonSchema;
}

export const NAMES = ['a', 'b', 'gw', 'svc'];
export const NAMESPACES = ['ns1', 'ns2'];
const STRINGS = ['a', 'b', '/', '/a', '/a/b', 'x', 'example.com', '*.example.com', 'GET', '1s'];

/** Field names whose values name another object: drawn from the pool. */
const NAME_FIELDS = new Set(['name', 'gatewayClassName', 'sectionName']);
const NAMESPACE_FIELDS = new Set(['namespace']);

function stringArb(s: JsonSchema, field: string): fc.Arbitrary<string> {
  if (NAME_FIELDS.has(field)) return fc.constantFrom(...NAMES);
  if (NAMESPACE_FIELDS.has(field)) return fc.constantFrom(...NAMESPACES);
  if (field === 'protocol' && !s.enum) return fc.constantFrom('HTTP', 'HTTPS', 'HTTP', 'TCP');
  const max = Math.min(s.maxLength ?? 40, 40);
  const min = s.minLength ?? 0;
  if (s.pattern) {
    return fc
      .oneof(fc.constantFrom(...STRINGS), fc.stringMatching(new RegExp(s.pattern)))
      .filter(
        (v) =>
          new RegExp(s.pattern!).test(v) && v.length >= min && v.length <= (s.maxLength ?? 1e9),
      );
  }
  return fc
    .oneof(fc.constantFrom(...STRINGS), fc.string({ maxLength: max }))
    .filter((v) => v.length >= min && v.length <= (s.maxLength ?? 1e9));
}

export function schemaArb(s: JsonSchema, field = '', depth = 0): fc.Arbitrary<unknown> {
  if (s.enum) return fc.constantFrom(...s.enum);
  if (s['x-kubernetes-int-or-string'])
    return fc.oneof(fc.integer({ min: 1, max: 65535 }), fc.constantFrom('http', '8080'));
  switch (s.type) {
    case 'string':
      return stringArb(s, field);
    case 'integer':
    case 'number':
      if (field === 'port') return fc.constantFrom(80, 443, 8080, 9000);
      return fc.integer({ min: s.minimum ?? 0, max: Math.min(s.maximum ?? 100_000, 100_000) });
    case 'boolean':
      return fc.boolean();
    case 'array': {
      const maxLength = Math.min(s.maxItems ?? 3, depth > 4 ? 1 : 3);
      const minLength = Math.min(s.minItems ?? 0, maxLength);
      return fc.array(schemaArb(s.items ?? {}, field, depth + 1), { minLength, maxLength });
    }
    case 'object':
    default: {
      if (!s.properties) {
        if (s.additionalProperties && typeof s.additionalProperties === 'object') {
          return fc.dictionary(
            fc.constantFrom('k1', 'k2'),
            schemaArb(s.additionalProperties, '', depth + 1),
            {
              maxKeys: 2,
            },
          );
        }
        return fc.constant({});
      }
      const required = new Set(s.required ?? []);
      const entries: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, v] of Object.entries(s.properties)) entries[k] = schemaArb(v, k, depth + 1);
      return fc.record(entries, {
        requiredKeys: [...required].filter((k) => k in entries),
      });
    }
  }
}
