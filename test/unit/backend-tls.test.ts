// BackendTLSPolicy's pure pieces: the status writer's ancestor merge (other
// controllers' entries are theirs, in place) and where the status lives; the
// gateway's check of a backend certificate's names (DNS with a one-label
// wildcard, URI exact, never the common name).
import type { PeerCertificate } from 'node:tls';
import { describe, expect, it } from 'vitest';
import type { PolicyAncestorStatus } from '../../controller/apis/types.js';
import {
  mergeAncestors,
  objectPath,
  STATUS_KINDS,
  targetStatus,
} from '../../controller/status/status-diff.js';
import type { UpstreamTlsSpec } from '../../gateway/config/upstream-tls.js';
import { namesProblem } from '../../gateway/runtime/upstream-tls.js';

const OURS = 'gatefleet.io/gateway-controller';
const OTHER = 'example.com/other';

function ancestor(name: string, controllerName: string, reason = 'Accepted'): PolicyAncestorStatus {
  return {
    ancestorRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'ns', name },
    controllerName,
    conditions: [
      {
        type: 'Accepted',
        status: reason === 'Accepted' ? 'True' : 'False',
        reason,
        message: '',
        observedGeneration: 1,
        lastTransitionTime: '2026-01-01T00:00:00Z',
      },
    ],
  };
}

describe('mergeAncestors', () => {
  it('keeps foreign entries in place, replaces ours in place, drops ours no longer desired', () => {
    const live = {
      ancestors: [ancestor('a', OURS), ancestor('x', OTHER), ancestor('gone', OURS)],
    };
    const desired = {
      ancestors: [ancestor('new', OURS), ancestor('a', OURS, 'Conflicted'), ancestor('y', OTHER)],
    };
    const out = mergeAncestors(desired, live, OURS, 'ns');
    expect(
      out.ancestors.map(
        (a) => `${a.controllerName === OURS ? 'ours' : 'other'}/${a.ancestorRef.name}`,
      ),
    ).toEqual(['ours/a', 'other/x', 'ours/new']);
    expect(out.ancestors[0]!.conditions[0]!.reason).toBe('Conflicted');
  });

  it('matches ancestor references with the API defaults applied', () => {
    const live = {
      ancestors: [{ ...ancestor('a', OURS), ancestorRef: { name: 'a' } }],
    };
    const out = mergeAncestors(
      { ancestors: [ancestor('a', OURS, 'Conflicted')] },
      live,
      OURS,
      'ns',
    );
    expect(out.ancestors).toHaveLength(1);
    expect(out.ancestors[0]!.conditions[0]!.reason).toBe('Conflicted');
  });

  it('is the writer’s merge for BackendTLSPolicy, whose status lives under v1', () => {
    const k = STATUS_KINDS.get('BackendTLSPolicy')!;
    expect(objectPath(k, 'a', 'n')).toBe(
      '/apis/gateway.networking.k8s.io/v1/namespaces/a/backendtlspolicies/n',
    );
    const live = { metadata: { namespace: 'ns' }, status: { ancestors: [ancestor('x', OTHER)] } };
    expect(targetStatus(k, { ancestors: [] }, live, OURS)).toEqual({
      ancestors: [ancestor('x', OTHER)],
    });
  });
});

describe('namesProblem (backend certificate names)', () => {
  const spec = (sans: UpstreamTlsSpec['subjectAltNames']): UpstreamTlsSpec => ({
    sni: 'abc.example.test',
    ca: 'pem',
    systemRoots: false,
    subjectAltNames: sans,
    alpn: [],
  });
  const cert = (subjectaltname: string, cn = 'abc.example.test') =>
    ({ subjectaltname, subject: { CN: cn } }) as unknown as PeerCertificate;

  it('DNS: exact, case-insensitive, a wildcard covers one leftmost label only', () => {
    const want = spec([{ type: 'DNS', value: 'abc.example.test' }]);
    expect(namesProblem(want, cert('DNS:ABC.example.test'))).toBeUndefined();
    expect(namesProblem(want, cert('DNS:*.example.test'))).toBeUndefined();
    expect(namesProblem(want, cert('DNS:*.test'))).toBeInstanceOf(Error);
    expect(namesProblem(want, cert('DNS:other.example.test'))).toBeInstanceOf(Error);
  });

  it('URI: exact; any one of several wanted names is enough', () => {
    const want = spec([
      { type: 'URI', value: 'spiffe://abc.example.test/id' },
      { type: 'DNS', value: 'def.example.test' },
    ]);
    expect(
      namesProblem(want, cert('DNS:x.test, URI:spiffe://abc.example.test/id')),
    ).toBeUndefined();
    expect(namesProblem(want, cert('URI:spiffe://abc.example.test/other'))).toBeInstanceOf(Error);
    // A DNS SAN never matches a wanted URI, nor the other way round.
    expect(namesProblem(want, cert('DNS:spiffe://abc.example.test/id'))).toBeInstanceOf(Error);
  });

  it('the common name alone is never enough', () => {
    const want = spec([{ type: 'DNS', value: 'abc.example.test' }]);
    const err = namesProblem(want, cert('', 'abc.example.test'));
    expect(err).toBeInstanceOf(Error);
    expect((err as NodeJS.ErrnoException).code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });
});
