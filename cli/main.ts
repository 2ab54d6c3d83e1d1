#!/usr/bin/env node
// The gatefleet command line.
import { readFileSync } from 'node:fs';
import { GatefleetError } from '../controller/errors.js';
import { runTranslate, TRANSLATE_USAGE } from './translate-command.js';

const USAGE = `Usage: gatefleet <command> [options]

Commands:
  translate   translate Gateway API YAML into statuses and fleet IR

Run \`gatefleet <command> --help\` for a command's options.
`;

function main(argv: string[]): number {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'translate':
        if (rest.includes('--help') || rest.includes('-h')) {
          process.stdout.write(TRANSLATE_USAGE);
          return 0;
        }
        process.stdout.write(runTranslate(rest, () => readFileSync(0, 'utf8')));
        return 0;
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        process.stdout.write(USAGE);
        return command === undefined ? 2 : 0;
      default:
        process.stderr.write(`gatefleet: unknown command "${command}"\n\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    if (e instanceof GatefleetError) {
      process.stderr.write(`gatefleet ${command}: ${e.code}: ${e.message}\n`);
      return 2;
    }
    if (e instanceof TypeError && (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`gatefleet ${command}: GF_USAGE: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

process.exitCode = main(process.argv.slice(2));
