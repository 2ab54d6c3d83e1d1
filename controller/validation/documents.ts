// Validating the objects of YAML files: the valid ones are kept, each error
// of an invalid one is a problem with its file, the line of its field, the
// field and a message. Shared by `gatefleet validate` and the file provider.
import type { InputObject } from '../translator/input.js';
import { YamlLocator } from './locate.js';
import { sharedValidator, type ValidationOutcome, type Validator } from './validator.js';

export interface DocumentProblem {
  file?: string;
  line?: number;
  /** `Kind namespace/name`, or the document's position when it has no name. */
  object: string;
  /** The field (`spec.rules[0].matches`), or `kind`, `apiVersion`, `document`. */
  field: string;
  message: string;
  /** The object's kind and version have no schema (the rest is a schema error). */
  unknownKind: boolean;
}

/**
 * Validation outcomes by object content, kept for one round of reads: a
 * provider that re-reads every file on each change validates only what changed.
 */
export class ValidationCache {
  private previous = new Map<string, ValidationOutcome>();
  private current = new Map<string, ValidationOutcome>();

  constructor(readonly validator: Validator = sharedValidator()) {}

  validate(obj: unknown): ValidationOutcome {
    let key: string | undefined;
    try {
      key = JSON.stringify(obj);
    } catch {
      return this.validator.validate(obj);
    }
    let hit = this.current.get(key) ?? this.previous.get(key);
    if (!hit) hit = this.validator.validate(obj);
    this.current.set(key, hit);
    return hit;
  }

  /** Ends a round: outcomes not used since the previous call are dropped. */
  endRound(): void {
    this.previous = this.current;
    this.current = new Map();
  }
}

function describe(obj: unknown, index: number, namespaced: boolean): string {
  const o = obj as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
  const kind = typeof o?.kind === 'string' ? o.kind : undefined;
  const name = typeof o?.metadata?.name === 'string' ? o.metadata.name : undefined;
  if (kind === undefined) return `document ${index}`;
  if (name === undefined) return `${kind} (document ${index})`;
  const ns =
    typeof o.metadata?.namespace === 'string' && o.metadata.namespace !== ''
      ? o.metadata.namespace
      : namespaced
        ? 'default'
        : undefined;
  return `${kind} ${ns === undefined ? '' : `${ns}/`}${name}`;
}

/**
 * Validates the objects parsed from one file's `text`. Returns the valid
 * objects as an API server would store them (and those of kinds without a
 * schema, unchanged), the invalid ones, and a problem per error.
 */
export function validateInputs(
  inputs: readonly InputObject[],
  text: string,
  validate: (obj: unknown) => ValidationOutcome = (o) => sharedValidator().validate(o),
): { valid: InputObject[]; invalid: InputObject[]; problems: DocumentProblem[] } {
  const valid: InputObject[] = [];
  const invalid: InputObject[] = [];
  const problems: DocumentProblem[] = [];
  let locator: YamlLocator | undefined;
  // The position of each object among those of its document (the items of a `kind: List`).
  let lastIndex = -1;
  let item = 0;
  for (const input of inputs) {
    const src = input.source;
    if (src && src.index === lastIndex) item++;
    else item = 0;
    lastIndex = src?.index ?? -1;
    const outcome = validate(input.object);
    if (outcome.status === 'checked' && outcome.errors.length === 0) {
      valid.push(outcome.stored === undefined ? input : { ...input, object: outcome.stored });
      continue;
    }
    const namespaced = outcome.status === 'checked' && outcome.namespaced;
    const object = describe(input.object, src?.index ?? 0, namespaced);
    const where = (path: readonly (string | number)[]) => {
      if (src?.line === undefined) return src?.file === undefined ? {} : { file: src.file };
      locator ??= new YamlLocator(text);
      return {
        ...(src.file === undefined ? {} : { file: src.file }),
        line: locator.line(src.line, item, path),
      };
    };
    if (outcome.status === 'unknown') {
      valid.push(input);
      problems.push({
        ...where([outcome.field]),
        object,
        field: outcome.field,
        message: outcome.message,
        unknownKind: true,
      });
      continue;
    }
    invalid.push(input);
    for (const e of outcome.errors) {
      problems.push({
        ...where(e.path),
        object,
        field: e.field,
        message: e.message,
        unknownKind: false,
      });
    }
  }
  return { valid, invalid, problems };
}
