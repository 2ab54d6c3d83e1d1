// `gatefleet translate` as users run it: a real process, real files and stdin.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCli } from '../support/cli.js';

const INPUT = `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: { name: gatefleet }
spec: { controllerName: gatefleet.io/gateway-controller }
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: gw, namespace: default }
spec:
  gatewayClassName: gatefleet
  listeners: [{ name: http, port: 80, protocol: HTTP }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: r, namespace: default }
spec:
  parentRefs: [{ name: gw }]
  rules: [{ backendRefs: [{ name: missing, port: 80 }] }]
---
this: [is, not, { valid
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: ignored }
`;

describe('gatefleet translate', () => {
  it('reads a file and prints statuses and IR as YAML, reporting bad documents with file and line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gf-translate-'));
    const file = join(dir, 'in.yaml');
    writeFileSync(file, INPUT);
    const r = runCli(['translate', '-f', file, '--now', '2026-01-01T00:00:00Z']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = parse(r.stdout);
    expect(out.diagnostics.map((d: { code: string; line: number }) => [d.code, d.line])).toEqual([
      ['GF_INPUT_PARSE', 21],
      ['GF_INPUT_UNKNOWN_KIND', 23],
    ]);
    expect(out.diagnostics[0].file).toBe(file);
    const route = out.resources.find((o: { kind: string }) => o.kind === 'HTTPRoute');
    const conds = route.status.parents[0].conditions;
    expect(conds.find((c: { type: string }) => c.type === 'Accepted').status).toBe('True');
    expect(conds.find((c: { type: string }) => c.type === 'ResolvedRefs').reason).toBe(
      'BackendNotFound',
    );
    const vh = out.ir.fleets[0].nodeGroups[0].listeners[0].filterChains[0].virtualHosts[0];
    expect(vh.routes[0].action).toMatchObject({ type: 'DirectResponse', status: 500 });
  });

  it('reads stdin and prints only the requested section as JSON', () => {
    const r = runCli(['translate', '-f', '-', '--to', 'ir', '-o', 'json'], INPUT);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out).sort()).toEqual(['diagnostics', 'ir']);
    expect(out.ir.fleets.map((f: { name: string }) => f.name)).toEqual(['default/gw']);
  });

  it('gives byte-identical output for identical input', () => {
    const a = runCli(['translate', '-f', '-', '--now', '2026-01-01T00:00:00Z'], INPUT);
    const b = runCli(['translate', '-f', '-', '--now', '2026-01-01T00:00:00Z'], INPUT);
    expect(a.stdout).toBe(b.stdout);
  });

  it.each([
    [['translate'], /GF_USAGE: --file is required/],
    [['translate', '-f', '-', '--to', 'ir,bogus'], /GF_USAGE: --to: unknown section bogus/],
    [['translate', '-f', '-', '-o', 'toml'], /GF_USAGE: --output: toml/],
    [['translate', '-f', '/nonexistent/file.yaml'], /GF_INPUT_PARSE: \/nonexistent\/file.yaml/],
    [['translate', '--bogus'], /GF_USAGE/],
    [['frobnicate'], /unknown command "frobnicate"/],
  ])('rejects %j with a clear error and exit code 2', (args, message) => {
    const r = runCli(args, '');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });
});
