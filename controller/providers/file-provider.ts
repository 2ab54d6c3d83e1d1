// Standalone mode's provider: Gateway API YAML in a directory (and its
// subdirectories), watched. Every change re-reads the tree; each document
// that cannot be read, or that its kind's schema (the CRD's, with its CEL
// rules) rejects, is reported with its file and line and skipped, and
// everything valid keeps working. Objects get what an API server would give
// them: a generation that increases when their spec changes and a creation
// timestamp from when they were first seen.
import { readdirSync, readFileSync, statSync, watch, type FSWatcher } from 'node:fs';
import { join, relative } from 'node:path';
import { createHash } from 'node:crypto';
import type { Diagnostic } from '../errors.js';
import { ErrorCode } from '../errors.js';
import type { InputObject } from '../translator/input.js';
import { ValidationCache, validateInputs } from '../validation/documents.js';
import { parseYamlDocuments } from './yaml-documents.js';

export interface FileSnapshot {
  inputs: InputObject[];
  diagnostics: Diagnostic[];
  files: string[];
}

interface Seen {
  specHash: string;
  generation: number;
  created: string;
}

const YAML = /\.ya?ml$/;

function listYaml(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('.')) continue;
    const p = join(dir, name);
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) continue;
    if (st.isDirectory()) out.push(...listYaml(p));
    else if (YAML.test(name)) out.push(p);
  }
  return out;
}

type Named = { kind: string; metadata: { name: string; namespace?: unknown } };

/** `kind/namespace/name` of an object that has them. */
function identity(obj: unknown): string | undefined {
  const o = obj as Partial<Named> | null;
  if (
    typeof o !== 'object' ||
    o === null ||
    typeof o.kind !== 'string' ||
    typeof o.metadata?.name !== 'string'
  ) {
    return undefined;
  }
  return `${o.kind}/${String(o.metadata.namespace ?? '')}/${o.metadata.name}`;
}

export class FileProvider {
  private readonly seen = new Map<string, Seen>();
  /** Validation outcomes of the last read, by content: only changed documents are validated again. */
  private readonly validation = new ValidationCache();
  private watchers: FSWatcher[] = [];
  private timer?: NodeJS.Timeout;

  constructor(
    readonly dir: string,
    private readonly now: () => string = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
  ) {}

  /** Reads every YAML file now. */
  read(): FileSnapshot {
    const diagnostics: Diagnostic[] = [];
    const inputs: InputObject[] = [];
    let files: string[] = [];
    try {
      files = listYaml(this.dir);
    } catch (e) {
      diagnostics.push({
        code: ErrorCode.InputParse,
        object: this.dir,
        message: `cannot read directory: ${(e as Error).message}`,
      });
    }
    const live = new Set<string>();
    let index = 0;
    for (const file of files) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (e) {
        diagnostics.push({
          code: ErrorCode.InputParse,
          object: relative(this.dir, file),
          file,
          message: (e as Error).message,
        });
        continue;
      }
      const parsed = parseYamlDocuments(text, file, index);
      index += parsed.inputs.length + parsed.diagnostics.length;
      diagnostics.push(...parsed.diagnostics);
      const checked = validateInputs(parsed.inputs, text, (o) => this.validation.validate(o));
      for (const p of checked.problems) {
        if (p.unknownKind) continue; // the translator reports the kinds it does not read
        diagnostics.push({
          code: ErrorCode.InputSchema,
          object: p.object,
          file: p.file,
          line: p.line,
          message: `${p.field}: ${p.message}`,
        });
      }
      for (const input of checked.valid) inputs.push(this.stamp(input, live));
      for (const input of checked.invalid) {
        // Skipped until it is fixed; its generation then goes on from where it was.
        const k = identity(input.object);
        if (k !== undefined) live.add(k);
      }
    }
    this.validation.endRound();
    for (const k of [...this.seen.keys()]) if (!live.has(k)) this.seen.delete(k);
    return { inputs, diagnostics, files };
  }

  /** Adds generation and creationTimestamp the way an API server would. */
  private stamp(input: InputObject, live: Set<string>): InputObject {
    const k = identity(input.object);
    if (k === undefined) return input;
    const o = input.object as { metadata: Record<string, unknown>; spec?: unknown };
    live.add(k);
    const specHash = createHash('sha256')
      .update(JSON.stringify(o.spec ?? null))
      .digest('hex');
    let s = this.seen.get(k);
    if (!s) this.seen.set(k, (s = { specHash, generation: 1, created: this.now() }));
    else if (s.specHash !== specHash) {
      s.specHash = specHash;
      s.generation++;
    }
    return {
      ...input,
      object: {
        ...o,
        metadata: {
          generation: s.generation,
          creationTimestamp: s.created,
          ...o.metadata,
        },
      },
    };
  }

  /** Calls `onChange` (debounced) whenever a file under the directory changes. */
  watch(onChange: (s: FileSnapshot) => void, debounceMs = 50): void {
    const fire = () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => onChange(this.read()), debounceMs);
    };
    this.watchers.push(watch(this.dir, { recursive: true }, fire));
  }

  close(): void {
    clearTimeout(this.timer);
    for (const w of this.watchers) w.close();
    this.watchers = [];
  }
}
