// Renders a translation for people and golden files: the input objects that
// got a status (with it), the IR, and any input diagnostics. Private keys are
// redacted unless asked for: translation output is often pasted into issues.
import { stringify } from 'yaml';
import type { InputObject } from '../controller/translator/input.js';
import type { TranslateResult } from '../controller/translator/index.js';
import type { IR } from '../controller/ir/types.js';
import { dumpXds } from '../xds/dump.js';

export type Section = 'status' | 'ir' | 'xds';
export type Format = 'yaml' | 'json';

export interface RenderOptions {
  to: readonly Section[];
  format: Format;
  showSecrets?: boolean;
}

export const REDACTED = '<redacted>';

function objectKey(o: unknown): string | undefined {
  if (typeof o !== 'object' || o === null) return undefined;
  const r = o as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
  if (typeof r.kind !== 'string' || typeof r.metadata?.name !== 'string') return undefined;
  const ns = typeof r.metadata.namespace === 'string' ? r.metadata.namespace : '';
  return `${r.kind}|${ns}|${r.metadata.name}`;
}

export function redactIR(ir: IR): IR {
  return {
    fleets: ir.fleets.map((f) => ({
      ...f,
      nodeGroups: f.nodeGroups.map((g) => ({
        ...g,
        secrets: g.secrets.map((s) => ({ ...s, privateKey: REDACTED })),
      })),
    })),
  };
}

export function renderTranslation(
  inputs: readonly InputObject[],
  result: TranslateResult,
  opts: RenderOptions,
): string {
  const doc: Record<string, unknown> = {};
  if (result.diagnostics.length > 0) doc.diagnostics = result.diagnostics;
  if (opts.to.includes('status')) {
    const originals = new Map<string, unknown>();
    for (const i of inputs) {
      const k = objectKey(i.object);
      if (k) originals.set(k, i.object);
    }
    doc.resources = result.statuses.map((s) => {
      const ns = 'namespace' in s ? s.namespace : '';
      const original = originals.get(`${s.kind}|${ns}|${s.name}`) as Record<string, unknown>;
      // Input objects may omit the namespace; the key above falls back to it.
      const base =
        original ?? (originals.get(`${s.kind}||${s.name}`) as Record<string, unknown>) ?? {};
      return { ...base, status: s.status };
    });
  }
  if (opts.to.includes('ir')) doc.ir = opts.showSecrets ? result.ir : redactIR(result.ir);
  if (opts.to.includes('xds'))
    doc.xds = dumpXds(result.ir, { showSecrets: opts.showSecrets === true });
  return opts.format === 'json'
    ? `${JSON.stringify(doc, null, 2)}\n`
    : stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false, version: '1.1' });
}
