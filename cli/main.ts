#!/usr/bin/env node
// The gatefleet command line. Each command's module is loaded only when that
// command runs, so `gatefleet gateway` starts without loading the translator.
import { readFileSync } from 'node:fs';
import { GatefleetError } from '../controller/errors.js';

const USAGE = `Usage: gatefleet <command> [options]

Commands:
  run         run gatefleet without Kubernetes: YAML directory → controller → local gateways
  controller  run gatefleet in Kubernetes (informers, status, leader election, fleets)
  status      show what a running \`gatefleet run\` knows: resources, conditions, fleet
  translate   translate Gateway API YAML into statuses, fleet IR and xDS
  validate    check Gateway API YAML against the CRDs' schemas and CEL rules
  gateway     run a gatefleet gateway (configured by the controller over xDS)
  echo        run a test backend that answers with the request it received

Run \`gatefleet <command> --help\` for a command's options.
`;

interface Command {
  usage: string;
  /** Resolves with the exit code, or undefined for a command that keeps running. */
  run(argv: string[]): Promise<number | undefined>;
}

const COMMANDS: Record<string, () => Promise<Command>> = {
  translate: async () => {
    const m = await import('./translate-command.js');
    return {
      usage: m.TRANSLATE_USAGE,
      run: async (argv) => {
        process.stdout.write(m.runTranslate(argv, () => readFileSync(0, 'utf8')));
        return 0;
      },
    };
  },
  controller: async () => {
    const m = await import('./controller-command.js');
    return { usage: m.CONTROLLER_USAGE, run: (argv) => m.runController(argv) };
  },
  gateway: async () => {
    const m = await import('./gateway-command.js');
    return {
      usage: m.GATEWAY_USAGE,
      run: async (argv) => {
        await m.runGateway(argv);
        return undefined;
      },
    };
  },
  run: async () => {
    const m = await import('./run-command.js');
    return {
      usage: m.RUN_USAGE,
      run: async (argv) => {
        const r = await m.runStandalone(m.parseRunArgs(argv));
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
        return undefined;
      },
    };
  },
  status: async () => {
    const m = await import('./status-command.js');
    return {
      usage: m.STATUS_USAGE,
      run: async (argv) => {
        try {
          process.stdout.write(await m.runStatus(argv));
          return 0;
        } catch (e) {
          if (e instanceof GatefleetError || e instanceof TypeError) throw e;
          process.stderr.write(
            `gatefleet status: cannot reach the controller's admin API: ${(e as Error).message}\n`,
          );
          return 1;
        }
      },
    };
  },
  validate: async () => {
    const m = await import('./validate-command.js');
    return {
      usage: m.VALIDATE_USAGE,
      run: async (argv) => {
        const r = m.runValidate(argv);
        process.stdout.write(r.output);
        return r.code;
      },
    };
  },
  echo: async () => {
    const m = await import('./echo-command.js');
    return {
      usage: m.ECHO_USAGE,
      run: async (argv) => {
        const o = m.parseEchoArgs(argv);
        await m.startEcho(o);
        process.stdout.write(`echo backend ${o.pod} listening on ${o.host}:${o.port}\n`);
        return undefined;
      },
    };
  },
};

/** Usage errors and known errors become a message and exit code 2; anything else is a bug. */
function fail(command: string, e: unknown): number {
  if (e instanceof GatefleetError) {
    process.stderr.write(`gatefleet ${command}: ${e.code}: ${e.message}\n`);
    return 2;
  }
  if (e instanceof TypeError && (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`gatefleet ${command}: GF_USAGE: ${e.message}\n`);
    return 2;
  }
  process.stderr.write(
    `gatefleet ${command}: internal error: ${(e as Error).stack ?? String(e)}\n`,
  );
  return 1;
}

async function main(argv: string[]): Promise<number | undefined> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  const load = COMMANDS[command];
  if (!load) {
    process.stderr.write(`gatefleet: unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
  const cmd = await load();
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(cmd.usage);
    return 0;
  }
  try {
    return await cmd.run(rest);
  } catch (e) {
    return fail(command, e);
  }
}

main(process.argv.slice(2)).then((code) => {
  if (code !== undefined) process.exitCode = code;
});
