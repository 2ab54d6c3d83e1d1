// The identity of a gateway on the xDS server: which node group its client
// certificate was issued for, and the check that the node group a stream
// claims (node.cluster) is that one.
//
// Contract: a node group's client certificate carries exactly one URI
// subject alternative name `spiffe://gatefleet.io/node-group/<n>` where <n>
// is encodeURIComponent(node group) (node groups look like `ns/gw`,
// `ns/gw#shard`, `merged:name`), and the clientAuth extended key usage. The
// URI must be in that canonical encoding: `ns%2fgw` is not `ns/gw`.
import type { PeerCertificate } from 'node:tls';

export const NODE_GROUP_URI_PREFIX = 'spiffe://gatefleet.io/node-group/';

/** The URI SAN that names `nodeGroup`. */
export function nodeGroupUri(nodeGroup: string): string {
  return NODE_GROUP_URI_PREFIX + encodeURIComponent(nodeGroup);
}

/** The node group a URI names; undefined for any other URI or a non-canonical encoding. */
export function nodeGroupOfUri(uri: string): string | undefined {
  if (!uri.startsWith(NODE_GROUP_URI_PREFIX)) return undefined;
  const encoded = uri.slice(NODE_GROUP_URI_PREFIX.length);
  let group: string;
  try {
    group = decodeURIComponent(encoded);
  } catch {
    return undefined;
  }
  return group !== '' && encodeURIComponent(group) === encoded ? group : undefined;
}

/**
 * The URIs in Node's rendering of a subjectAltName extension
 * (`X509Certificate.subjectAltName`, `PeerCertificate.subjectaltname`):
 * `TYPE:value` entries joined by ", ", where Node writes any value holding a
 * comma, quote, backslash or non-printable character as a JSON string, so an
 * entry cannot smuggle in another.
 */
export function subjectAltNameUris(san: string | undefined): string[] {
  const uris: string[] = [];
  if (!san) return uris;
  let i = 0;
  while (i < san.length) {
    const colon = san.indexOf(':', i);
    if (colon < 0) break;
    const type = san.slice(i, colon);
    let value: string;
    let end: number;
    if (san[colon + 1] === '"') {
      end = colon + 2;
      while (end < san.length && san[end] !== '"') end += san[end] === '\\' ? 2 : 1;
      end++;
      try {
        value = JSON.parse(san.slice(colon + 1, end)) as string;
      } catch {
        return uris; // malformed: trust nothing after it
      }
    } else {
      const comma = san.indexOf(', ', colon + 1);
      end = comma < 0 ? san.length : comma;
      value = san.slice(colon + 1, end);
    }
    if (type === 'URI') uris.push(value);
    i = san.startsWith(', ', end) ? end + 2 : end;
  }
  return uris;
}

/** What a verified client certificate says about who the peer is. */
export type CertifiedIdentity =
  | { nodeGroup: string; serial: string; fingerprint256: string }
  | { problem: 'no_certificate' | 'no_identity'; detail: string; serial?: string };

/** The identity in a peer certificate (from grpc's `call.getAuthContext().sslPeerCertificate`). */
export function identityOfPeer(peer: PeerCertificate | undefined): CertifiedIdentity {
  if (!peer?.raw) return { problem: 'no_certificate', detail: 'no verified client certificate' };
  const groups = [
    ...new Set(
      subjectAltNameUris(peer.subjectaltname)
        .map(nodeGroupOfUri)
        .filter((g) => g !== undefined),
    ),
  ];
  if (groups.length !== 1) {
    return {
      problem: 'no_identity',
      detail:
        groups.length === 0
          ? `the client certificate (serial ${peer.serialNumber}) names no node group`
          : `the client certificate (serial ${peer.serialNumber}) names more than one node group`,
      serial: peer.serialNumber,
    };
  }
  return { nodeGroup: groups[0]!, serial: peer.serialNumber, fingerprint256: peer.fingerprint256 };
}

/** Why a stream is refused; `reason` is a metric label, `message` goes to the client and the log. */
export interface IdentityRefusal {
  reason: 'no_certificate' | 'no_identity' | 'mismatch' | 'changed';
  message: string;
  claimed?: string;
  certified?: string;
}

export interface ClaimedNode {
  id?: string | null;
  cluster?: string | null;
}

/**
 * Checks every request of one stream. The first request that names a node
 * group must name the certified one; a later request naming another group
 * is refused too. Requests without node.cluster pass (only the first request
 * of a stream must carry the node; the stream itself rejects a first request
 * without one). A certificate without a node group refuses the stream at its
 * first request, whatever it claims.
 */
export class NodeIdentityGuard {
  private bound?: string;

  constructor(readonly identity: CertifiedIdentity) {}

  /** The node group the stream proved, once its first claim was accepted. */
  get boundNodeGroup(): string | undefined {
    return this.bound;
  }

  check(node: ClaimedNode | null | undefined): IdentityRefusal | undefined {
    const id = this.identity;
    const claimed = node?.cluster || undefined;
    if ('problem' in id) {
      return {
        reason: id.problem,
        message: `node group ${quote(claimed)} refused: ${id.detail}`,
        ...(claimed !== undefined ? { claimed } : {}),
      };
    }
    if (claimed === undefined) return undefined;
    if (this.bound === undefined) {
      if (claimed !== id.nodeGroup) {
        return {
          reason: 'mismatch',
          message: `node ${quote(node?.id ?? undefined)} claims node group ${quote(claimed)} but its client certificate is for node group ${quote(id.nodeGroup)}`,
          claimed,
          certified: id.nodeGroup,
        };
      }
      this.bound = claimed;
      return undefined;
    }
    if (claimed !== this.bound) {
      return {
        reason: 'changed',
        message: `node ${quote(node?.id ?? undefined)} changed its node group from ${quote(this.bound)} to ${quote(claimed)} mid-stream (client certificate for node group ${quote(id.nodeGroup)})`,
        claimed,
        certified: id.nodeGroup,
      };
    }
    return undefined;
  }
}

function quote(s: string | undefined): string {
  return s === undefined ? '(none)' : JSON.stringify(s);
}
