// Parses multi-document YAML into translator input, keeping each document's
// file and line so every problem can be reported where it is. A document that
// does not parse is reported and skipped; the others are kept. `kind: List`
// documents are flattened into their items.
import { LineCounter, parseAllDocuments } from 'yaml';
import { ErrorCode, type Diagnostic } from '../errors.js';
import type { InputObject } from '../translator/input.js';

export interface ParsedDocuments {
  inputs: InputObject[];
  diagnostics: Diagnostic[];
}

export function parseYamlDocuments(text: string, file: string, startIndex = 0): ParsedDocuments {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, uniqueKeys: true });
  const inputs: InputObject[] = [];
  const diagnostics: Diagnostic[] = [];
  const list = Array.isArray(docs) ? docs : [docs];
  let index = startIndex;
  for (const doc of list) {
    // A document's line is where its content starts, after any `---` and comments.
    const line = lineCounter.linePos(doc.contents?.range[0] ?? doc.range[0]).line;
    if (doc.errors.length > 0) {
      const e = doc.errors[0]!;
      diagnostics.push({
        code: ErrorCode.InputParse,
        object: `document ${index + 1}`,
        file,
        line,
        message: `invalid YAML: ${e.message.split('\n')[0]!.replace(/:$/, '')}`,
      });
      index++;
      continue;
    }
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) continue; // empty document
    index++;
    if (isList(value)) {
      for (const item of value.items) inputs.push({ object: item, source: { file, line, index } });
    } else {
      inputs.push({ object: value, source: { file, line, index } });
    }
  }
  return { inputs, diagnostics };
}

function isList(v: unknown): v is { items: unknown[] } {
  return (
    typeof v === 'object' &&
    v !== null &&
    (v as { kind?: unknown }).kind === 'List' &&
    Array.isArray((v as { items?: unknown }).items)
  );
}
