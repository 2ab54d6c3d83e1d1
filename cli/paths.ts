// Where the built CLI lives, for spawning gateway processes of the same build.
import { fileURLToPath } from 'node:url';

export const CLI_PATH = fileURLToPath(new URL('./main.js', import.meta.url));
