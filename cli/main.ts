#!/usr/bin/env node
// The gatefleet command line.
import { readFileSync } from 'node:fs';
import { GatefleetError } from '../controller/errors.js';
import { ECHO_USAGE, parseEchoArgs, startEcho } from './echo-command.js';
import { GATEWAY_USAGE, runGateway } from './gateway-command.js';
import { parseRunArgs, RUN_USAGE, runStandalone } from './run-command.js';
import { runStatus, STATUS_USAGE } from './status-command.js';
import { runTranslate, TRANSLATE_USAGE } from './translate-command.js';

const USAGE = `Usage: gatefleet <command> [options]

Commands:
  run         run gatefleet without Kubernetes: YAML directory → controller → local gateways
  status      show what a running \`gatefleet run\` knows: resources, conditions, fleet
  translate   translate Gateway API YAML into statuses, fleet IR and xDS
  gateway     run a gatefleet gateway (configured by the controller over xDS)
  echo        run a test backend that answers with the request it received

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
      case 'run': {
        if (rest.includes('--help') || rest.includes('-h')) {
          process.stdout.write(RUN_USAGE);
          return 0;
        }
        const opts = parseRunArgs(rest);
        runStandalone(opts).then(
          (r) => {
            let stopping = false;
            const stop = () => {
              if (stopping) return;
              stopping = true;
              r.stop().then(
                () => process.exit(0),
                () => process.exit(1),
              );
            };
            process.on('SIGTERM', stop);
            process.on('SIGINT', stop);
          },
          (e: unknown) => {
            process.exitCode = fail(command, e);
          },
        );
        return undefined;
      }
      case 'status':
        if (rest.includes('--help') || rest.includes('-h')) {
          process.stdout.write(STATUS_USAGE);
          return 0;
        }
        runStatus(rest).then(
          (out) => process.stdout.write(out),
          (e: unknown) => {
            process.stderr.write(
              `gatefleet status: cannot reach the controller's admin API: ${(e as Error).message}\n`,
            );
            process.exitCode = 1;
          },
        );
        return undefined;
      case 'echo': {
        if (rest.includes('--help') || rest.includes('-h')) {
          process.stdout.write(ECHO_USAGE);
          return 0;
        }
        const o = parseEchoArgs(rest);
        startEcho(o).then(
          () => process.stdout.write(`echo backend ${o.pod} listening on ${o.host}:${o.port}\n`),
          (e: unknown) => {
            process.stderr.write(`gatefleet echo: ${(e as Error).message}\n`);
            process.exitCode = 1;
          },
        );
        return undefined;
      }
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
