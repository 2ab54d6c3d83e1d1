// Container images → programs on this machine. The node agent pulls nothing:
// each image it knows is a local build of the same program (see
// hack/local-cluster/build.sh), started with the image's entrypoint semantics
// (command replaces the entrypoint, args replace its default arguments). Any
// other image fails the pod with ErrImageNeverPull and this reason.
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';

export interface ImageProgram {
  /** The image's entrypoint as a local argv. */
  entrypoint: string[];
  /** Names the image's entrypoint binary may be given by in `command` (e.g. "/coredns"). */
  binaryNames: string[];
}

export interface ImageMap {
  resolve(image: string): ImageProgram | { problem: string };
}

/** Repository without registry host or tag: "registry.k8s.io/coredns/coredns:v1" → "coredns/coredns". */
export function repositoryOf(image: string): string {
  let ref = image.split('@')[0]!;
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) ref = ref.slice(0, colon);
  const parts = ref.split('/');
  if (parts.length > 1 && /[.:]|^localhost$/.test(parts[0]!)) parts.shift();
  return parts.join('/');
}

export function localImageMap(root: string, binDir: string): ImageMap {
  const node = process.execPath;
  const cli = join(root, 'dist', 'cli', 'main.js');
  const table: Record<string, ImageProgram> = {
    'gateway-api/echo-basic': {
      entrypoint: [join(binDir, 'echo-basic')],
      binaryNames: ['echo-basic', '/echo-basic'],
    },
    'coredns/coredns': {
      entrypoint: [join(binDir, 'coredns')],
      binaryNames: ['coredns', '/coredns'],
    },
    'gatefleet/controller': { entrypoint: [node, cli, 'controller'], binaryNames: [] },
    'gatefleet/gateway': { entrypoint: [node, cli, 'gateway'], binaryNames: [] },
  };
  return {
    resolve(image) {
      const repo = repositoryOf(image);
      const program = table[repo];
      if (!program) {
        return {
          problem: `image ${image} has no local program (known: ${Object.keys(table).join(', ')})`,
        };
      }
      const bin = program.entrypoint[program.entrypoint.length === 1 ? 0 : 1]!;
      if (!existsSync(bin)) {
        return { problem: `image ${image}: ${bin} is not built (run hack/local-cluster/build.sh)` };
      }
      return program;
    },
  };
}

/** The argv a container runs: entrypoint/command + args, with `command` mapped onto the local binary. */
export function containerArgv(
  program: ImageProgram,
  command: string[] | undefined,
  args: string[] | undefined,
): string[] | { problem: string } {
  if (command && command.length > 0) {
    const [first, ...rest] = command;
    if (!program.binaryNames.includes(first!) && !program.binaryNames.includes(basename(first!))) {
      return {
        problem: `command ${first} is not this image's program (${program.binaryNames.join(', ') || 'entrypoint only'})`,
      };
    }
    return [...program.entrypoint, ...rest, ...(args ?? [])];
  }
  return [...program.entrypoint, ...(args ?? [])];
}
