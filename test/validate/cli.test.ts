// `gatefleet validate` as users run it: the built CLI as a real process on a
// directory of valid and invalid files (run `npx tsc -p tsconfig.build.json` first).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

const GOOD = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: { name: gatefleet }
spec: { controllerName: gatefleet.io/gateway-controller }
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: gw, namespace: apps }
spec:
  gatewayClassName: gatefleet
  listeners: [{ name: http, port: 80, protocol: HTTP }]
`;

const BAD = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: web, namespace: apps }
spec:
  parentRefs: [{ name: gw }]
  rules:
    - matches:
        - path: { type: PathPrefix, value: api }
      filters:
        - type: RequestRedirect
          requestRedirect: { scheme: https }
      backendRefs: [{ name: web, port: 80 }]
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: apps }
spec:
  ports: [{ port: http }]
`;

const BROKEN = `apiVersion: v1
kind: Namespace
metadata: { name: apps
`;

describe('gatefleet validate', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gf-validate-cli-'));
    mkdirSync(join(dir, 'routes'));
    writeFileSync(join(dir, 'good.yaml'), GOOD);
    writeFileSync(join(dir, 'routes', 'bad.yml'), BAD);
    writeFileSync(join(dir, 'broken.yaml'), BROKEN);
    writeFileSync(join(dir, 'notes.txt'), 'not YAML, not read');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints one line per error, sorted by file and line, and exits 1', () => {
    const r = runCli(['validate', dir]);
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')).toEqual([
      `${dir}/broken.yaml:1: invalid YAML: Flow map in block collection must be sufficiently indented and end with a } at line 4, column 1`,
      `${dir}/routes/bad.yml:7: spec.rules[0]: RequestRedirect filter must not be used together with backendRefs`,
      `${dir}/routes/bad.yml:8: spec.rules[0].matches[0].path: value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']`,
      `${dir}/routes/bad.yml:18: spec.ports[0].port: Invalid value: "http": must be of type integer`,
      '',
    ]);
    expect(r.status).toBe(1);
  });

  it('prints nothing and exits 0 when every file is valid', () => {
    const r = runCli(['validate', join(dir, 'good.yaml')]);
    expect(r).toEqual({ status: 0, stdout: '', stderr: '' });
  });

  it('usage errors exit 2 with GF_USAGE', () => {
    const none = runCli(['validate']);
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/^gatefleet validate: GF_USAGE: no file or directory given/);
    const missing = runCli(['validate', join(dir, 'missing')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toBe(
      `gatefleet validate: GF_USAGE: ${join(dir, 'missing')}: no such file or directory\n`,
    );
    const flag = runCli(['validate', '--nope', dir]);
    expect(flag.status).toBe(2);
    expect(flag.stderr).toMatch(/^gatefleet validate: GF_USAGE: /);
  });

  it('--explain-skipped lists the CEL rules that are not evaluated, and why', () => {
    const r = runCli(['validate', '--explain-skipped']);
    expect(r.status).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^CEL rules: \d+ in \d+ kind versions; \d+ evaluated, 3 skipped$/);
    expect(lines.slice(1)).toEqual([
      'skipped GatewayClass v1 spec.controllerName: self == oldSelf',
      "  transition rule: compares with the object's previous version (oldSelf)",
      'skipped GatewayClass v1beta1 spec.controllerName: self == oldSelf',
      "  transition rule: compares with the object's previous version (oldSelf)",
      'skipped XMesh v1alpha1 spec.controllerName: self == oldSelf',
      "  transition rule: compares with the object's previous version (oldSelf)",
    ]);
  });
});
