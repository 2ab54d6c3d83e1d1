#!/usr/bin/env node
// The gatefleet command line.
import { readFileSync } from 'node:fs';
import { GatefleetError } from '../controller/errors.js';
import { GATEWAY_USAGE, runGateway } from './gateway-command.js';
import { runTranslate, TRANSLATE_USAGE } from './translate-command.js';

const USAGE = `Usage: gatefleet <command> [options]

Commands:
  translate   translate Gateway API YAML into statuses, fleet IR and xDS
  gateway     run a gatefleet gateway (configured by the controller over xDS)

Run \`gatefleet <command> --help\` for a command's options.
`;

function fail(command: string | undefined, e: unknown): number {
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

function main(argv: string[]): number | undefined {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'gateway':
        if (rest.includes('--help') || rest.includes('-h')) {
          process.stdout.write(GATEWAY_USAGE);
          return 0;
        }
        // Long-running: errors after start-up are the gateway's own to log.
        runGateway(rest).catch((e: unknown) => {
          process.exitCode = fail(command, e);
        });
        return undefined;
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
    return fail(command, e);
  }
}

const code = main(process.argv.slice(2));
if (code !== undefined) process.exitCode = code;
