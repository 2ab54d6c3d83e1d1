// Builds the tools some test files need, once, before any test runs, so no
// test file's hooks pay (or time out on) a first build: kube-apiserver,
// kube-controller-manager and etcd for the Kubernetes tests, Helm for the
// chart tests, the programs the local cluster's node agent runs for the conformance suite's
// images. All are cached under .cache/ between runs.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');

function step(what: string, cmd: string, args: string[]): void {
  const t0 = Date.now();
  execFileSync(cmd, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  const s = Math.round((Date.now() - t0) / 1000);
  if (s > 5) process.stderr.write(`global setup: ${what} took ${s} s (cached from now on)\n`);
}

export default function setup(): void {
  step('Kubernetes control plane binaries', 'bash', ['hack/kube/control-plane.sh', 'build']);
  step('Helm', 'bash', ['hack/tools/helm.sh']);
  step('echo-basic and CoreDNS for the local cluster', 'bash', ['hack/local-cluster/build.sh']);
}
