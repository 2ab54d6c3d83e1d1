// Golden-file helper: compares produced text with a committed file, or
// rewrites the file when UPDATE_GOLDEN=1 (`npm run golden`).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { expect } from 'vitest';

export const UPDATE_GOLDEN = process.env.UPDATE_GOLDEN === '1';

export function expectGolden(file: string, actual: string): void {
  if (UPDATE_GOLDEN) {
    if (!existsSync(file) || readFileSync(file, 'utf8') !== actual) writeFileSync(file, actual);
    return;
  }
  if (!existsSync(file)) {
    throw new Error(`${file} does not exist; run \`npm run golden\` to create it`);
  }
  expect(actual, `${file} differs; run \`npm run golden\` and review the diff`).toBe(
    readFileSync(file, 'utf8'),
  );
}
