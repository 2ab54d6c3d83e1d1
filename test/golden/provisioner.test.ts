// Provisioner golden files: test/golden/provisioner/<scenario>.in.yaml holds
// Gateway API objects; they are translated (the real translator) and every
// node group of the IR is rendered with fixed settings and a placeholder
// client certificate per node group. <scenario>.out.yaml holds a summary
// (placement, object names, unfulfilled addresses) and then every generated
// object. Regenerate with `npm run golden`.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseYamlDocuments } from '../../controller/providers/yaml-documents.js';
import type { KubeObject } from '../../controller/providers/kube/kinds.js';
import { placeFleet, renderNodeGroup } from '../../controller/provisioner/render.js';
import {
  DEFAULT_ENVOY_IMAGE,
  type ProvisionerSettings,
} from '../../controller/provisioner/settings.js';
import { translate } from '../../controller/translator/index.js';
import { expectGolden } from '../support/golden.js';

const DIR = join(import.meta.dirname, 'provisioner');

const GOLDEN_SETTINGS: ProvisionerSettings = {
  gatewayImage: 'gatefleet/gateway:0.1.0',
  imagePullPolicy: 'IfNotPresent',
  envoyImage: DEFAULT_ENVOY_IMAGE,
  xdsAddress: 'gatefleet-xds.gatefleet-system.svc:18000',
  xdsServerName: 'gatefleet-xds.gatefleet-system.svc',
  controllerNamespace: 'gatefleet-system',
};

/** Stands in for the issuer: PEM-shaped text naming the node group (render never parses it). */
function placeholderCertificate(nodeGroup: string) {
  const pem = (label: string, body: string) =>
    `-----BEGIN ${label}-----\n${Buffer.from(body).toString('base64')}\n-----END ${label}-----\n`;
  return {
    'ca.crt': pem('CERTIFICATE', 'gatefleet xDS CA'),
    'tls.crt': pem('CERTIFICATE', `client ${nodeGroup}`),
    'tls.key': pem('PRIVATE KEY', `key ${nodeGroup}`),
  };
}

function scenarios(): string[] {
  return readdirSync(DIR)
    .filter((f) => f.endsWith('.in.yaml'))
    .map((f) => f.slice(0, -'.in.yaml'.length))
    .sort();
}

function renderScenario(text: string, file: string): string {
  const parsed = parseYamlDocuments(text, file);
  expect(parsed.diagnostics).toEqual([]);
  const { ir, diagnostics } = translate(parsed.inputs, { now: '2026-01-01T00:00:00Z' });
  expect(diagnostics).toEqual([]);
  const gateways = new Map<string, KubeObject>();
  for (const { object } of parsed.inputs) {
    const o = object as KubeObject;
    if (o.kind !== 'Gateway') continue;
    const ns = o.metadata?.namespace ?? 'default';
    gateways.set(`${ns}/${o.metadata?.name}`, {
      ...o,
      metadata: { ...o.metadata, uid: o.metadata?.uid ?? `uid-${ns}-${o.metadata?.name}` },
    });
  }
  const summary: unknown[] = [];
  const objects: KubeObject[] = [];
  for (const fleet of ir.fleets) {
    const placement = placeFleet(fleet, (ns, name) => gateways.get(`${ns}/${name}`));
    if ('problem' in placement) {
      summary.push({ fleet: fleet.name, problem: placement.problem });
      continue;
    }
    const groups = fleet.nodeGroups.map((group) => {
      const r = renderNodeGroup({
        fleet,
        group,
        settings: GOLDEN_SETTINGS,
        placement,
        clientCertificate: placeholderCertificate(group.name),
      });
      objects.push(...r.objects);
      return {
        nodeGroup: group.name,
        name: r.name,
        objects: r.objects.map((o) => `${o.kind} ${o.metadata?.namespace}/${o.metadata?.name}`),
        ...(r.unfulfilledAddresses.length ? { unfulfilledAddresses: r.unfulfilledAddresses } : {}),
      };
    });
    summary.push({
      fleet: fleet.name,
      namespace: placement.namespace,
      owners: placement.owners.map((o) => o.name),
      nodeGroups: groups,
    });
  }
  return [{ summary }, ...objects]
    .map((d) => stringify(d, { lineWidth: 0, aliasDuplicateObjects: false }))
    .join('---\n');
}

describe('provisioner golden files', () => {
  for (const name of scenarios()) {
    it(name, () => {
      const file = join(DIR, `${name}.in.yaml`);
      expectGolden(join(DIR, `${name}.out.yaml`), renderScenario(readFileSync(file, 'utf8'), file));
    });
  }
});
