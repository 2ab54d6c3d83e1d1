// `gatefleet run`'s provider: an invalid document is reported with its file,
// the line of the field and the reason, and skipped; the valid documents of
// the same file are kept; fixing the file is picked up by the next read.
import { mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FileProvider } from '../../controller/providers/file-provider.js';
import { sharedValidator } from '../../controller/validation/validator.js';

const GATEWAY = `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: gw, namespace: apps }
spec:
  gatewayClassName: gatefleet
  listeners: [{ name: http, port: 80, protocol: HTTP }]
`;

function route(name: string, timeouts: string): string {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name}, namespace: apps }
spec:
  parentRefs: [{ name: gw }]
  rules:
    - timeouts: ${timeouts}
      backendRefs: [{ name: web, port: 80 }]
`;
}

const BAD = '{ request: 1s, backendRequest: 5s }';
const GOOD = '{ request: 10s, backendRequest: 5s }';

const names = (s: ReturnType<FileProvider['read']>) =>
  s.inputs.map((i) => {
    const o = i.object as { kind: string; metadata: { name: string; generation: number } };
    return `${o.kind} ${o.metadata.name} (generation ${o.metadata.generation})`;
  });

describe('FileProvider validation', () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('skips an invalid document with a diagnostic, keeps the others, and picks up the fix', () => {
    dir = mkdtempSync(join(tmpdir(), 'gf-validate-provider-'));
    const file = join(dir, 'apps.yaml');
    writeFileSync(file, [GATEWAY, route('a', GOOD), route('b', BAD)].join('---\n'));
    const provider = new FileProvider(dir, () => '2026-01-01T00:00:00Z');

    const first = provider.read();
    expect(names(first)).toEqual(['Gateway gw (generation 1)', 'HTTPRoute a (generation 1)']);
    expect(first.diagnostics).toEqual([
      {
        code: 'GF_INPUT_SCHEMA',
        object: 'HTTPRoute apps/b',
        file,
        line: 23,
        message:
          'spec.rules[0].timeouts: backendRequest timeout cannot be longer than request timeout',
      },
    ]);

    writeFileSync(file, [GATEWAY, route('a', GOOD), route('b', GOOD)].join('---\n'));
    const fixed = provider.read();
    expect(fixed.diagnostics).toEqual([]);
    expect(names(fixed)).toEqual([
      'Gateway gw (generation 1)',
      'HTTPRoute a (generation 1)',
      'HTTPRoute b (generation 1)',
    ]);
  });

  it('an object that becomes invalid is skipped until it is fixed, and its generation goes on', () => {
    dir = mkdtempSync(join(tmpdir(), 'gf-validate-provider-'));
    const file = join(dir, 'apps.yaml');
    const provider = new FileProvider(dir, () => '2026-01-01T00:00:00Z');
    writeFileSync(file, [GATEWAY, route('a', GOOD)].join('---\n'));
    expect(names(provider.read())).toContain('HTTPRoute a (generation 1)');

    writeFileSync(file, [GATEWAY, route('a', BAD)].join('---\n'));
    const broken = provider.read();
    expect(names(broken)).toEqual(['Gateway gw (generation 1)']);
    expect(broken.diagnostics.map((d) => `${d.code} ${d.line}`)).toEqual(['GF_INPUT_SCHEMA 14']);

    writeFileSync(file, [GATEWAY, route('a', '{ request: 20s }')].join('---\n'));
    const again = provider.read();
    expect(again.diagnostics).toEqual([]);
    expect(names(again)).toContain('HTTPRoute a (generation 2)');
  });

  it('leaves kinds without a schema and YAML errors to their own diagnostics', () => {
    dir = mkdtempSync(join(tmpdir(), 'gf-validate-provider-'));
    writeFileSync(
      join(dir, 'misc.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c }\n---\nthis: [is, not\n',
    );
    const s = new FileProvider(dir).read();
    expect(s.inputs).toHaveLength(1); // the translator reports kinds it does not read
    expect(s.diagnostics.map((d) => d.code)).toEqual(['GF_INPUT_PARSE']);
  });

  it('hands on objects as an API server stores them: null in a field that is not nullable dropped', () => {
    dir = mkdtempSync(join(tmpdir(), 'gf-validate-provider-'));
    writeFileSync(
      join(dir, 'route.yaml'),
      route('a', '{ request: 10s }').replace('spec:\n', 'spec:\n  hostnames:\n'),
    );
    const s = new FileProvider(dir).read();
    expect(s.diagnostics).toEqual([]);
    const spec = (s.inputs[0]!.object as { spec: Record<string, unknown> }).spec;
    expect(Object.keys(spec)).toEqual(['parentRefs', 'rules']);
  });

  it('validates again only the documents that changed', () => {
    dir = mkdtempSync(join(tmpdir(), 'gf-validate-provider-'));
    const docs: string[] = [GATEWAY];
    for (let i = 0; i < 2000; i++) docs.push(route(`r${i}`, GOOD));
    writeFileSync(join(dir, 'many.yaml'), docs.join('---\n'));
    const provider = new FileProvider(dir);
    const validate = vi.spyOn(sharedValidator(), 'validate');
    expect(provider.read().inputs).toHaveLength(2001);
    expect(validate).toHaveBeenCalledTimes(2001);
    validate.mockClear();
    writeFileSync(join(dir, 'many.yaml'), [...docs, route('extra', BAD)].join('---\n'));
    const s = provider.read();
    expect(validate).toHaveBeenCalledTimes(1);
    expect(s.inputs).toHaveLength(2001);
    expect(s.diagnostics.map((d) => d.object)).toEqual(['HTTPRoute apps/extra']);
    validate.mockRestore();
  });
});

describe('FileProvider re-reads only what changed', () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a changed, added or watcher-named file again and reuses the others', async () => {
    dir = mkdtempSync(join(tmpdir(), 'gf-incremental-provider-'));
    writeFileSync(join(dir, '00-gateway.yaml'), GATEWAY);
    writeFileSync(join(dir, 'a.yaml'), route('a', GOOD));
    writeFileSync(join(dir, 'b.yaml'), route('b', GOOD));
    const provider = new FileProvider(dir, () => '2026-01-01T00:00:00Z');
    expect(names(provider.read())).toHaveLength(3);
    expect(provider.filesRead).toBe(3);

    expect(names(provider.read())).toHaveLength(3);
    expect(provider.filesRead).toBe(3); // nothing changed: nothing read

    writeFileSync(join(dir, 'b.yaml'), route('b', '{ request: 20s, backendRequest: 5s }  '));
    writeFileSync(join(dir, 'c.yaml'), route('c', GOOD));
    const after = provider.read();
    expect(provider.filesRead).toBe(5);
    expect(names(after)).toEqual([
      'Gateway gw (generation 1)',
      'HTTPRoute a (generation 1)',
      'HTTPRoute b (generation 2)',
      'HTTPRoute c (generation 1)',
    ]);

    rmSync(join(dir, 'a.yaml'));
    expect(names(provider.read())).toEqual([
      'Gateway gw (generation 1)',
      'HTTPRoute b (generation 2)',
      'HTTPRoute c (generation 1)',
    ]);
    expect(provider.filesRead).toBe(5);

    // Same size, same mtime, same inode: only the watcher can tell. A
    // rewrite it reports is read again.
    const file = join(dir, 'c.yaml');
    const { mtime, atime } = statSync(file);
    writeFileSync(file, route('c', '{ request: 11s, backendRequest: 5s }'));
    utimesSync(file, atime, mtime);
    const changes: ReturnType<FileProvider['read']>[] = [];
    provider.watch((s) => changes.push(s), 5);
    try {
      writeFileSync(file, route('c', '{ request: 12s, backendRequest: 5s }'));
      utimesSync(file, atime, mtime);
      await vi.waitFor(() => expect(changes.length).toBeGreaterThan(0), { timeout: 5_000 });
    } finally {
      provider.close();
    }
    const c = changes
      .at(-1)!
      .inputs.map((i) => i.object as { metadata: { name: string }; spec: unknown })
      .find((o) => o.metadata.name === 'c')!;
    expect(JSON.stringify(c.spec)).toContain('12s');
  });
});
