// `gatefleet validate`: checks Gateway API YAML the way an API server with
// gatefleet's CRDs would, without one: the kind's structural schema and its
// CEL rules, per object. One line per error, `file:line: field: message`.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ErrorCode, GatefleetError } from '../controller/errors.js';
import { parseYamlDocuments } from '../controller/providers/yaml-documents.js';
import { validateInputs } from '../controller/validation/documents.js';
import {
  sharedValidator,
  type RuleInfo,
  type Validator,
} from '../controller/validation/validator.js';

export const VALIDATE_USAGE = `Usage: gatefleet validate <dir|file>... [--explain-skipped]

Validates Kubernetes YAML as an API server with gatefleet's CRDs would: each
object against its kind's schema (the experimental-channel Gateway API CRDs
and gatefleet's FleetConfig, with their CEL rules; required fields and types
for Namespace, Service, EndpointSlice and Secret). Directories are read
recursively (every .yaml and .yml file). Prints one line per error,
\`file:line: field: message\`, sorted by file and line, and exits with 1 when
there is an error, 0 otherwise.

      --explain-skipped  list the CEL rules that are not evaluated, and why
`;

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

function files(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) throw new GatefleetError(ErrorCode.Usage, `${p}: no such file or directory`);
    out.push(...(st.isDirectory() ? listYaml(p) : [p]));
  }
  return [...new Set(out)];
}

/** What `--explain-skipped` prints. */
export function explainSkipped(rules: readonly RuleInfo[]): string {
  const versions = new Set(rules.map((r) => `${r.kind}/${r.version}`));
  const skipped = rules.filter((r) => r.skipped !== undefined);
  let s = `CEL rules: ${rules.length} in ${versions.size} kind versions; ${rules.length - skipped.length} evaluated, ${skipped.length} skipped\n`;
  for (const r of skipped) {
    s += `skipped ${r.kind} ${r.version} ${r.path}: ${r.rule.replace(/\s+/g, ' ')}\n  ${r.skipped}\n`;
  }
  return s;
}

export interface ReportLine {
  file: string;
  line: number;
  /** `file:line: field: message` */
  text: string;
}

/** The errors of one file's text, in document order. */
export function validateText(
  text: string,
  file: string,
  validator: Validator = sharedValidator(),
): ReportLine[] {
  const lines: ReportLine[] = [];
  const parsed = parseYamlDocuments(text, file);
  for (const d of parsed.diagnostics) {
    lines.push({ file, line: d.line ?? 0, text: `${file}:${d.line ?? 0}: ${d.message}` });
  }
  const { problems } = validateInputs(parsed.inputs, text, (o) => validator.validate(o));
  for (const p of problems) {
    const line = p.line ?? 0;
    lines.push({ file, line, text: `${file}:${line}: ${p.field}: ${p.message}` });
  }
  return lines;
}

/** Sorted by file, then line (errors on one line keep their order). */
export function sortLines(lines: ReportLine[]): ReportLine[] {
  return lines.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line));
}

export function runValidate(argv: string[]): { output: string; code: number } {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { 'explain-skipped': { type: 'boolean', default: false } },
    allowPositionals: true,
    strict: true,
  });
  const explain = values['explain-skipped'] === true;
  if (positionals.length === 0 && !explain)
    throw new GatefleetError(ErrorCode.Usage, `no file or directory given\n\n${VALIDATE_USAGE}`);
  const validator = sharedValidator();
  let output = explain ? explainSkipped(validator.rules()) : '';
  const lines: ReportLine[] = [];
  for (const file of files(positionals)) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      lines.push({ file, line: 0, text: `${file}:0: cannot read: ${(e as Error).message}` });
      continue;
    }
    lines.push(...validateText(text, file, validator));
  }
  for (const l of sortLines(lines)) output += `${l.text}\n`;
  return { output, code: lines.length > 0 ? 1 : 0 };
}
