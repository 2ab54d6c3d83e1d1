// Standalone mode's provider: Gateway API YAML in a directory (and its
// subdirectories), watched. A change re-reads only the files that changed
// (named by the watcher, or whose size, mtime or inode differ): with
// thousands of route files, parsing and validating them all again would be
// most of the time a new route takes to be served. Each document
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
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  )) {
    if (e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    // Symbolic links are followed, like the rest of the tree.
    const isDir =
      e.isDirectory() ||
      (e.isSymbolicLink() && statSync(p, { throwIfNoEntry: false })?.isDirectory());
    if (isDir) out.push(...listYaml(p));
    else if (YAML.test(e.name)) out.push(p);
  }
  return out;
}

/** What one file gave at its last read, reused while the file is unchanged. */
interface FileEntry {
  /** size, mtime and inode when read. */
  stamp: string;
  /**
   * Valid objects with their spec's hash, before generation and
   * creationTimestamp are added; `stamped` is the object as last returned,
   * reused while its generation stays the same.
   */
  valid: { input: InputObject; specHash: string; stamped?: InputObject }[];
  /** Identities of the file's objects, valid or not (kept alive in `seen`). */
  identities: string[];
  diagnostics: Diagnostic[];
}

function fileStamp(file: string): string | undefined {
  const st = statSync(file, { throwIfNoEntry: false });
  return st ? `${st.size}:${st.mtimeMs}:${st.ino}` : undefined;
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
  private readonly files = new Map<string, FileEntry>();
  /** Files the watcher named since the last read: read again even if their stamp is the same. */
  private readonly dirty = new Set<string>();
  private watchers: FSWatcher[] = [];
  /** Files read from disk so far (a file unchanged since the last read is not read again). */
  filesRead = 0;
  private timer?: NodeJS.Timeout;

  constructor(
    readonly dir: string,
    private readonly now: () => string = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
  ) {}

  /**
   * The directory's objects now; files unchanged since the last read are not
   * read again. `trustNamed`: only files the watcher named (and new ones)
   * can have changed, so the others are not even stat'ed.
   */
  read(trustNamed = false): FileSnapshot {
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
    const present = new Set(files);
    for (const f of [...this.files.keys()]) if (!present.has(f)) this.files.delete(f);
    let reread = false;
    for (const file of files) {
      let entry = this.files.get(file);
      const named = this.dirty.has(file);
      if (!entry || named || !trustNamed) {
        const stamp = fileStamp(file);
        if (stamp === undefined) continue; // removed since the listing
        if (!entry || entry.stamp !== stamp || named) {
          entry = this.readFile(file, stamp);
          reread = true;
          this.files.set(file, entry);
        }
      }
      diagnostics.push(...entry.diagnostics);
      for (const k of entry.identities) live.add(k);
      for (const v of entry.valid) inputs.push(this.stamp(v));
    }
    this.dirty.clear();
    if (reread) this.validation.endRound();
    for (const k of [...this.seen.keys()]) if (!live.has(k)) this.seen.delete(k);
    return { inputs, diagnostics, files };
  }

  private readFile(file: string, stamp: string): FileEntry {
    const entry: FileEntry = { stamp, valid: [], identities: [], diagnostics: [] };
    let text: string;
    this.filesRead++;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      entry.diagnostics.push({
        code: ErrorCode.InputParse,
        object: relative(this.dir, file),
        file,
        message: (e as Error).message,
      });
      return entry;
    }
    const parsed = parseYamlDocuments(text, file, 0);
    entry.diagnostics.push(...parsed.diagnostics);
    const checked = validateInputs(parsed.inputs, text, (o) => this.validation.validate(o));
    for (const p of checked.problems) {
      if (p.unknownKind) continue; // the translator reports the kinds it does not read
      entry.diagnostics.push({
        code: ErrorCode.InputSchema,
        object: p.object,
        file: p.file,
        line: p.line,
        message: `${p.field}: ${p.message}`,
      });
    }
    entry.valid = checked.valid.map((input) => ({
      input,
      specHash: createHash('sha256')
        .update(JSON.stringify((input.object as { spec?: unknown }).spec ?? null))
        .digest('hex'),
    }));
    // An invalid object is skipped until it is fixed; its generation then
    // goes on from where it was, so its identity stays alive.
    for (const input of [...checked.valid, ...checked.invalid]) {
      const k = identity(input.object);
      if (k !== undefined) entry.identities.push(k);
    }
    return entry;
  }

  /** Adds generation and creationTimestamp the way an API server would. */
  private stamp(v: FileEntry['valid'][number]): InputObject {
    const { input, specHash } = v;
    const k = identity(input.object);
    if (k === undefined) return input;
    const o = input.object as { metadata: Record<string, unknown>; spec?: unknown };
    let s = this.seen.get(k);
    if (!s) this.seen.set(k, (s = { specHash, generation: 1, created: this.now() }));
    else if (s.specHash !== specHash) {
      s.specHash = specHash;
      s.generation++;
    }
    const meta = v.stamped?.object as { metadata: Record<string, unknown> } | undefined;
    if (meta && meta.metadata.generation === s.generation) return v.stamped!;
    return (v.stamped = {
      ...input,
      object: {
        ...o,
        metadata: {
          generation: s.generation,
          creationTimestamp: s.created,
          ...o.metadata,
        },
      },
    });
  }

  /**
   * Calls `onChange` whenever a file under the directory changes, after
   * `debounceMs` of quiet (an editor's save is several events).
   */
  watch(onChange: (s: FileSnapshot) => void, debounceMs = 5): void {
    // Linux's recursive watch names every file that changed; an event
    // without a name (e.g. the kernel's queue overflowed) makes the next
    // read check every file.
    let unnamed = false;
    const fire = (_event: string, name: string | Buffer | null) => {
      if (name) this.dirty.add(join(this.dir, name.toString()));
      else unnamed = true;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => {
        const trustNamed = !unnamed;
        unnamed = false;
        onChange(this.read(trustNamed));
      }, debounceMs);
    };
    this.watchers.push(watch(this.dir, { recursive: true }, fire));
  }

  close(): void {
    clearTimeout(this.timer);
    for (const w of this.watchers) w.close();
    this.watchers = [];
  }
}
