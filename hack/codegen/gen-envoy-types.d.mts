export const protoDeps: string;
export const includeDirs: string[];
export const outDir: string;
export const protoFiles: string[];
export function generate(target?: string): void;
export function listFiles(dir: string): string[];
