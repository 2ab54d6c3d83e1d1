// Renders charts/gatefleet with Helm (installed by hack/tools/helm.sh) for tests: the objects
// `helm template` produces, parsed, with the options an install would use. Reusable for a
// server-side dry-run apply: `renderChart(values, { includeCrds: true }).objects` in order.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';

const run = promisify(execFile);

export const ROOT = join(import.meta.dirname, '..', '..');
export const CHART_DIR = join(ROOT, 'charts', 'gatefleet');
const HELM_SCRIPT = join(ROOT, 'hack', 'tools', 'helm.sh');

/** The first call may build Helm with `go install` (minutes): call it from a beforeAll. */
export const HELM_INSTALL_TIMEOUT_MS = 15 * 60_000;

/** A rendered object: apiVersion, kind and metadata typed, the rest left to the test. */
export type ChartObject = KubernetesObject & {
  apiVersion: string;
  kind: string;
  metadata: NonNullable<KubernetesObject['metadata']> & { name: string };
  [field: string]: unknown;
};

export interface RenderOptions {
  /** Release name (default `gatefleet`, as hack/kind-up.sh installs it). */
  release?: string;
  /** Release namespace (default `gatefleet-system`). */
  namespace?: string;
  /** Also output crds/ (first), as an install would apply them. */
  includeCrds?: boolean;
  /** Capabilities.KubeVersion, e.g. `v1.35.4` to match a real API server. */
  kubeVersion?: string;
}

export interface RenderedChart {
  /** Every object, in Helm's install order. */
  objects: ChartObject[];
  /** Helm's output as is. */
  yaml: string;
  /** The one object of `kind` (and `name`); throws when there is not exactly one. */
  get(kind: string, name?: string): ChartObject;
  all(kind: string): ChartObject[];
}

/** A failed Helm command; `stderr` holds Helm's message (schema errors, `fail`). */
export class HelmError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super(`${message}: ${stderr.trim()}`);
  }
}

let helmPath: Promise<string> | undefined;

/** Path of the Helm binary, installed once into .cache/bin by hack/tools/helm.sh. */
export function helm(): Promise<string> {
  helmPath ??= run('bash', [HELM_SCRIPT], { timeout: HELM_INSTALL_TIMEOUT_MS }).then(
    (r) => r.stdout.trim(),
    (e: Error & { stderr?: string }) => {
      helmPath = undefined;
      throw new HelmError('hack/tools/helm.sh failed', e.stderr ?? e.message);
    },
  );
  return helmPath;
}

async function helmWithValues(
  args: string[],
  values: Record<string, unknown>,
): Promise<{ stdout: string; stderr: string }> {
  const bin = await helm();
  const dir = await mkdtemp(join(tmpdir(), 'gatefleet-chart-'));
  try {
    const file = join(dir, 'values.json'); // JSON is YAML
    await writeFile(file, JSON.stringify(values));
    return await run(bin, [...args, '--values', file], {
      cwd: ROOT,
      timeout: 60_000,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, HELM_CACHE_HOME: dir, HELM_CONFIG_HOME: dir, HELM_DATA_HOME: dir },
    });
  } catch (e) {
    const err = e as Error & { stderr?: string };
    throw new HelmError(`helm ${args[0]} failed`, err.stderr || err.message);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `helm template` of the chart with `values` merged over values.yaml; throws HelmError. */
export async function renderChart(
  values: Record<string, unknown> = {},
  opts: RenderOptions = {},
): Promise<RenderedChart> {
  const args = [
    'template',
    opts.release ?? 'gatefleet',
    CHART_DIR,
    '--namespace',
    opts.namespace ?? 'gatefleet-system',
  ];
  if (opts.includeCrds) args.push('--include-crds');
  if (opts.kubeVersion) args.push('--kube-version', opts.kubeVersion);
  const { stdout } = await helmWithValues(args, values);

  const objects: ChartObject[] = [];
  for (const doc of parseAllDocuments(stdout)) {
    if (doc.errors.length > 0) throw new Error(`helm output is not YAML: ${doc.errors[0]}`);
    const obj = doc.toJS() as ChartObject | null;
    if (obj !== null) objects.push(obj);
  }
  const all = (kind: string) => objects.filter((o) => o.kind === kind);
  return {
    objects,
    yaml: stdout,
    all,
    get(kind, name) {
      const found = all(kind).filter((o) => name === undefined || o.metadata.name === name);
      if (found.length !== 1) {
        throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
      }
      return found[0]!;
    },
  };
}

/** `helm lint --strict` of the chart with `values`; returns Helm's output, throws HelmError. */
export async function lintChart(values: Record<string, unknown> = {}): Promise<string> {
  const { stdout } = await helmWithValues(['lint', CHART_DIR, '--strict'], values);
  return stdout;
}
