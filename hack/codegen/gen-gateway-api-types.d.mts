export const crdDir: string;
export const outFile: string;
export const sources: { file: string; version: string }[];
export function crdSchema(
  file: string,
  version: string,
): { kind: string; schema: Record<string, unknown>; crd: Record<string, unknown> };
export function generate(): Promise<string>;
