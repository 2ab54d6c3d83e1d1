// Clients for xDS mTLS tests: raw ADS streams over a channel with given
// credentials (each on its own connection), and a bare TLS handshake that
// reports the certificate the server presented and whether it then
// refused ours.
import * as grpc from '@grpc/grpc-js';
import { connect } from 'node:tls';
import type { DeltaDiscoveryRequest } from '../../xds/generated/envoy/service/discovery/v3/DeltaDiscoveryRequest.js';
import type { DeltaDiscoveryResponse__Output } from '../../xds/generated/envoy/service/discovery/v3/DeltaDiscoveryResponse.js';
import type { DiscoveryRequest } from '../../xds/generated/envoy/service/discovery/v3/DiscoveryRequest.js';
import type { DiscoveryResponse__Output } from '../../xds/generated/envoy/service/discovery/v3/DiscoveryResponse.js';
import { adsProto } from '../../xds/server/ads-server.js';

export interface TlsClientFiles {
  /** PEM CA bundle that verifies the server. */
  ca: string;
  cert?: string;
  key?: string;
}

export function channelCredentials(f: TlsClientFiles): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(
    Buffer.from(f.ca),
    f.key ? Buffer.from(f.key) : null,
    f.cert ? Buffer.from(f.cert) : null,
  );
}

export interface StreamEnd {
  code: number;
  details: string;
}

/** One ADS stream; records every response and how it ended. */
export class TestStream<Req, Res> {
  readonly responses: Res[] = [];
  readonly ended: Promise<StreamEnd>;
  private readonly waiters = new Set<() => void>();

  constructor(
    private readonly client: grpc.Client,
    private readonly call: grpc.ClientDuplexStream<Req, Res>,
  ) {
    call.on('data', (r: Res) => {
      this.responses.push(r);
      for (const w of this.waiters) w();
    });
    this.ended = new Promise((resolve) => {
      call.on('error', (e: grpc.ServiceError) => resolve({ code: e.code, details: e.details }));
      call.on('status', (s: grpc.StatusObject) => resolve({ code: s.code, details: s.details }));
    });
    // A stream that ends rejects nothing: tests await `ended` when they expect it.
    void this.ended.then(() => {
      for (const w of this.waiters) w();
    });
  }

  write(req: Req): void {
    this.call.write(req);
  }

  /** The first response (past or future) that `match` accepts. */
  waitFor(match: (r: Res) => boolean, what: string, timeoutMs = 5_000): Promise<Res> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const hit = this.responses.find(match);
        if (!hit) return false;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve(hit);
        return true;
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`no ${what} in ${timeoutMs} ms`));
      }, timeoutMs);
      if (!check()) this.waiters.add(check);
    });
  }

  close(): void {
    this.call.cancel();
    this.client.close();
  }
}

function stub(port: number, creds: grpc.ChannelCredentials) {
  const Client = adsProto().envoy.service.discovery.v3.AggregatedDiscoveryService;
  return new Client(`127.0.0.1:${port}`, creds, { 'grpc.use_local_subchannel_pool': 1 });
}

export type SotwTestStream = TestStream<DiscoveryRequest, DiscoveryResponse__Output>;
export type DeltaTestStream = TestStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse__Output>;

export function sotwStream(port: number, creds: grpc.ChannelCredentials): SotwTestStream {
  const c = stub(port, creds);
  return new TestStream(c, c.StreamAggregatedResources() as never);
}

export function deltaStream(port: number, creds: grpc.ChannelCredentials): DeltaTestStream {
  const c = stub(port, creds);
  return new TestStream(c, c.DeltaAggregatedResources() as never);
}

export interface HandshakeResult {
  /** Serial of the certificate the server presented. */
  serverSerial?: string;
  /** Set when the handshake or the server's verdict on our certificate failed. */
  error?: string;
}

/**
 * A bare TLS 1.3 handshake with ALPN h2. In TLS 1.3 the server judges the
 * client certificate after the client's handshake completes, so this waits
 * `settleMs` for a refusal (an alert) before calling it accepted.
 */
export function handshake(
  port: number,
  f: TlsClientFiles,
  settleMs = 300,
): Promise<HandshakeResult> {
  return new Promise((resolve) => {
    const result: HandshakeResult = {};
    const socket = connect({
      host: '127.0.0.1',
      port,
      ca: f.ca,
      ...(f.cert ? { cert: f.cert, key: f.key } : {}),
      ALPNProtocols: ['h2'],
    });
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    socket.once('secureConnect', () => {
      result.serverSerial = socket.getPeerCertificate().serialNumber;
      timer = setTimeout(finish, settleMs);
    });
    socket.on('error', (e) => {
      result.error = e.message;
      finish();
    });
    socket.on('close', () => {
      if (result.serverSerial && !result.error) result.error = 'closed by the server';
      finish();
    });
    // Something to read, so that an alert arriving after the handshake surfaces.
    socket.resume();
  });
}
