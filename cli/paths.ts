// Where the built CLI lives, for spawning gateway processes of the same build.
// From dist/ it is this file's sibling; when this module is loaded from source
// (tests run TypeScript directly), it is the build under dist/.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const sibling = fileURLToPath(new URL('./main.js', import.meta.url));

export const CLI_PATH = existsSync(sibling)
  ? sibling
  : fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
