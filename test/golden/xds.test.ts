// xDS golden files: for every translator scenario, <scenario>.xds.json holds
// the Envoy resources of every node group as proto3 JSON (what `gatefleet
// translate --to xds -o json` prints). Every resource is also checked to
// encode and decode back unchanged and to satisfy the protoc-gen-validate
// rules in Envoy's protos, as a real Envoy would check them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseYamlDocuments } from '../../controller/providers/yaml-documents.js';
import { translate } from '../../controller/translator/index.js';
import { dumpXds } from '../../xds/dump.js';
import { toProto3Json } from '../../xds/proto/json.js';
import { PUSH_ORDER, typeOfUrl } from '../../xds/proto/root.js';
import { validateMessage } from '../../xds/proto/validate.js';
import { irToResources } from '../../xds/publish.js';
import { encodeResource } from '../../xds/snapshot.js';
import { expectGolden } from '../support/golden.js';
import { GOLDEN_DIR, GOLDEN_NOW, scenarios } from './translator.test.js';

function irOf(name: string) {
  const file = join(GOLDEN_DIR, `${name}.in.yaml`);
  const parsed = parseYamlDocuments(readFileSync(file, 'utf8'), `${name}.in.yaml`);
  return translate(parsed.inputs, { now: GOLDEN_NOW }).ir;
}

describe('xDS golden files', () => {
  for (const name of scenarios()) {
    it(name, () => {
      const out = `${JSON.stringify({ xds: dumpXds(irOf(name)) }, null, 2)}\n`;
      expectGolden(join(GOLDEN_DIR, `${name}.xds.json`), out);
    });
  }
});

describe('xDS resources of every scenario', () => {
  it('encode, decode back unchanged, and satisfy the protos validation rules', () => {
    let count = 0;
    for (const name of scenarios()) {
      for (const group of irToResources(irOf(name))) {
        for (const typeUrl of PUSH_ORDER) {
          const type = typeOfUrl(typeUrl);
          for (const { name: rname, resource } of group.resources.get(typeUrl) ?? []) {
            const where = `${name}: ${group.nodeGroup} ${typeUrl.split('.').pop()} ${rname}`;
            const bytes = encodeResource(typeUrl, resource);
            const decoded = type.decode(bytes);
            expect(Buffer.from(type.encode(decoded).finish()), where).toEqual(Buffer.from(bytes));
            expect(toProto3Json(type, decoded), where).toEqual(
              toProto3Json(type, type.fromObject(resource)),
            );
            expect(validateMessage(type, decoded), where).toEqual([]);
            count++;
          }
        }
      }
    }
    expect(count).toBeGreaterThan(500);
  });
});
