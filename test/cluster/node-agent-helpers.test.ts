// The local node agent's pure parts: image references to programs, the
// kubelet's $(VAR) expansion, bind-mount order, downward-API values and the
// containerLogs selection. (The agent as a whole runs in
// test/conformance/conformance.test.ts.)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { containerArgv, repositoryOf } from './images.js';
import { selectLog } from './kubelet-server.js';
import { expand, mountScript, prepareMountPoints, removeMountPoints } from './pod-process.js';
import { fieldRefValue } from './volumes.js';

describe('local node agent helpers', () => {
  it('maps image references to repositories without registry, tag or digest', () => {
    expect(repositoryOf('registry.k8s.io/gateway-api/echo-basic:v1.5.1')).toBe(
      'gateway-api/echo-basic',
    );
    expect(repositoryOf('gatefleet/controller:0.1.0')).toBe('gatefleet/controller');
    expect(repositoryOf('localhost:5000/gatefleet/gateway@sha256:abc')).toBe('gatefleet/gateway');
    expect(repositoryOf('registry.k8s.io/coredns/coredns')).toBe('coredns/coredns');
  });

  it('runs command and args with the image entrypoint semantics', () => {
    const coredns = { entrypoint: ['/bin/coredns'], binaryNames: ['coredns', '/coredns'] };
    expect(containerArgv(coredns, undefined, ['-conf', '/root/Corefile'])).toEqual([
      '/bin/coredns',
      '-conf',
      '/root/Corefile',
    ]);
    expect(containerArgv(coredns, ['/coredns', '-dns.port', '53'], ['-x'])).toEqual([
      '/bin/coredns',
      '-dns.port',
      '53',
      '-x',
    ]);
    expect(containerArgv(coredns, ['/bin/sh', '-c', 'x'], undefined)).toHaveProperty('problem');
  });

  it('expands $(VAR) like the kubelet', () => {
    const env = { A: '1', B: 'two' };
    expect(expand('$(A)-$(B)-$(C)-$$(A)', env)).toBe('1-two-$(C)-$(A)');
  });

  it('bind-mounts parents before children and execs the program', () => {
    const script = mountScript([
      { source: '/v/b', target: '/a/b', readOnly: false },
      { source: '/v/a', target: '/a', readOnly: true },
    ]);
    expect(script.indexOf("'/a'\n")).toBeLessThan(script.indexOf("'/a/b'\n"));
    expect(script).toContain("mount -o remount,bind,ro '/a'");
    expect(script.trim().endsWith('exec "$@"')).toBe(true);
  });

  it('mounts every volume, and keeps the repository visible, when one is mounted over the directory holding them', () => {
    const root = mkdtempSync(join(tmpdir(), 'gf-mounts-'));
    try {
      const sources = join(root, 'volumes');
      mkdirSync(join(sources, 'tmp'), { recursive: true });
      mkdirSync(join(sources, 'tls'), { recursive: true });
      writeFileSync(join(sources, 'tls', 'tls.crt'), 'certificate');
      mkdirSync(join(root, 'repo'));
      writeFileSync(join(root, 'repo', 'program'), 'the program');
      const script = mountScript(
        [
          // An emptyDir over the directory that holds every source and the
          // repository, mounted first.
          { source: join(sources, 'tmp'), target: root, readOnly: false },
          { source: join(sources, 'tls'), target: join(root, 'etc-tls'), readOnly: true },
        ],
        [join(root, 'repo')],
      );
      const out = execFileSync(
        'unshare',
        [
          ...['--mount', '--propagation', 'private', 'bash', '-c', script, 'bash'],
          ...['cat', join(root, 'etc-tls', 'tls.crt'), join(root, 'repo', 'program')],
        ],
        { encoding: 'utf8' },
      );
      expect(out).toBe('certificatethe program');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('gives downward-API values of the pod', () => {
    const pod = {
      metadata: { name: 'p', namespace: 'ns', uid: 'u', labels: { app: 'x' } },
      spec: { nodeName: 'n', serviceAccountName: 'sa' },
      status: { podIP: '10.244.1.2', hostIP: '10.244.0.1' },
    };
    expect(fieldRefValue(pod, 'metadata.name')).toBe('p');
    expect(fieldRefValue(pod, 'metadata.namespace')).toBe('ns');
    expect(fieldRefValue(pod, 'status.podIP')).toBe('10.244.1.2');
    expect(fieldRefValue(pod, 'spec.nodeName')).toBe('n');
    expect(fieldRefValue(pod, "metadata.labels['app']")).toBe('x');
    expect(() => fieldRefValue(pod, 'status.nonsense')).toThrow(/not supported/);
  });

  it('selects container log lines by time, tail and timestamps', () => {
    const log = [
      '2026-01-01T00:00:01.000Z stdout one',
      '2026-01-01T00:00:02.000Z stderr two words',
      '2026-01-01T00:00:03.000Z stdout three',
    ].join('\n');
    const q = (s: string) => new URLSearchParams(s);
    expect(selectLog(log, q(''))).toBe('one\ntwo words\nthree\n');
    expect(selectLog(log, q('sinceTime=2026-01-01T00:00:02Z'))).toBe('two words\nthree\n');
    expect(selectLog(log, q('tailLines=1&timestamps=true'))).toBe(
      '2026-01-01T00:00:03.000Z three\n',
    );
    const now = Date.parse('2026-01-01T00:00:03.500Z');
    expect(selectLog(log, q('sinceSeconds=1'), now)).toBe('three\n');
    expect(selectLog(log, q('limitBytes=3'))).toBe('one');
  });

  it('creates missing mount points and removes them again, only while they are empty', () => {
    const root = mkdtempSync(join(tmpdir(), 'gf-mounts-'));
    try {
      const ledger = join(root, 'ledger.txt');
      mkdirSync(join(root, 'etc'));
      const mounts = [
        { source: '/x', target: join(root, 'etc/secret-volume'), readOnly: false },
        { source: '/y', target: join(root, 'var/run/secrets/sa'), readOnly: false },
        { source: '/z', target: join(root, 'etc'), readOnly: false },
      ];
      prepareMountPoints(mounts, ledger);
      expect(existsSync(join(root, 'etc/secret-volume'))).toBe(true);
      expect(existsSync(join(root, 'var/run/secrets/sa'))).toBe(true);
      writeFileSync(join(root, 'etc/keep.txt'), 'not ours');
      mkdirSync(join(root, 'var/run/other'));
      writeFileSync(join(root, 'var/run/other/file'), 'x');
      removeMountPoints(ledger);
      expect(existsSync(join(root, 'etc/secret-volume'))).toBe(false);
      expect(existsSync(join(root, 'etc/keep.txt'))).toBe(true);
      expect(existsSync(join(root, 'var/run/secrets'))).toBe(false);
      expect(existsSync(join(root, 'var/run/other/file'))).toBe(true);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
