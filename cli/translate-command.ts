// `gatefleet translate`: runs the translator on YAML from a file or stdin.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ErrorCode, GatefleetError } from '../controller/errors.js';
import { parseYamlDocuments } from '../controller/providers/yaml-documents.js';
import { translate } from '../controller/translator/index.js';
import { renderTranslation, type Format, type Section } from './render.js';

export const TRANSLATE_USAGE = `Usage: gatefleet translate -f <file|-> [--to status,ir,xds] [-o yaml|json] [--show-secrets]

Translates Gateway API resources (multi-document YAML; GatewayClass, Gateway,
HTTPRoute, ReferenceGrant, BackendTLSPolicy, Namespace, Service, EndpointSlice,
Secret, ConfigMap) and
prints the input objects with their computed status, the fleets' IR, and/or
the Envoy v3 resources each node group is served (proto3 JSON).

  -f, --file          input file, or - for standard input (required)
      --to            sections to print: status, ir, xds (default: status,ir)
  -o, --output        yaml (default) or json
      --show-secrets  print private keys instead of redacting them
      --now           timestamp for changed conditions (default: current time)
`;

const SECTIONS: readonly Section[] = ['status', 'ir', 'xds'];

export function runTranslate(argv: string[], readStdin: () => string): string {
  const { values } = parseArgs({
    args: argv,
    options: {
      file: { type: 'string', short: 'f' },
      to: { type: 'string', default: 'status,ir' },
      output: { type: 'string', short: 'o', default: 'yaml' },
      'show-secrets': { type: 'boolean', default: false },
      now: { type: 'string' },
    },
    strict: true,
  });
  if (!values.file)
    throw new GatefleetError(ErrorCode.Usage, `--file is required\n\n${TRANSLATE_USAGE}`);
  const to = values.to!.split(',').map((s) => s.trim()) as Section[];
  const unknown = to.filter((s) => !SECTIONS.includes(s));
  if (unknown.length > 0) {
    throw new GatefleetError(
      ErrorCode.Usage,
      `--to: unknown section ${unknown.join(', ')}; use ${SECTIONS.join(', ')}`,
    );
  }
  const format = values.output as Format;
  if (format !== 'yaml' && format !== 'json') {
    throw new GatefleetError(ErrorCode.Usage, `--output: ${format} is not yaml or json`);
  }
  const file = values.file;
  let text: string;
  try {
    text = file === '-' ? readStdin() : readFileSync(file, 'utf8');
  } catch (e) {
    throw new GatefleetError(ErrorCode.InputParse, `${file}: ${(e as Error).message}`);
  }
  const parsed = parseYamlDocuments(text, file === '-' ? '<stdin>' : file);
  const result = translate(parsed.inputs, values.now ? { now: values.now } : {});
  result.diagnostics.unshift(...parsed.diagnostics);
  return renderTranslation(parsed.inputs, result, {
    to,
    format,
    showSecrets: values['show-secrets'] === true,
  });
}
