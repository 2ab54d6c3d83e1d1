// A raw ADS client for protocol tests: real gRPC streams over loopback, with
// every response queued so tests can assert exactly what the server sent and
// when it sent nothing.
import * as grpc from '@grpc/grpc-js';
import { adsProto } from '../../xds/server/ads-server.js';
import type { DeltaDiscoveryRequest } from '../../xds/generated/envoy/service/discovery/v3/DeltaDiscoveryRequest.js';
import type { DeltaDiscoveryResponse__Output } from '../../xds/generated/envoy/service/discovery/v3/DeltaDiscoveryResponse.js';
import type { DiscoveryRequest } from '../../xds/generated/envoy/service/discovery/v3/DiscoveryRequest.js';
import type { DiscoveryResponse__Output } from '../../xds/generated/envoy/service/discovery/v3/DiscoveryResponse.js';

export interface TestNode {
  id: string;
  cluster: string;
}

class Queue<T> {
  private items: T[] = [];
  private waiters: ((v: T) => void)[] = [];
  private failers: ((e: Error) => void)[] = [];
  error?: Error;

  fail(e: Error): void {
    this.error = e;
    for (const f of this.failers.splice(0)) f(e);
    this.waiters = [];
  }

  push(v: T): void {
    const w = this.waiters.shift();
    if (w) w(v);
    else this.items.push(v);
  }

  next(timeoutMs: number, what: string): Promise<T> {
    const v = this.items.shift();
    if (v !== undefined) return Promise.resolve(v);
    if (this.error) return Promise.reject(this.error);
    return new Promise((resolve, reject) => {
      this.failers.push(reject);
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(
          new Error(
            `no ${what} within ${timeoutMs} ms${this.error ? ` (${this.error.message})` : ''}`,
          ),
        );
      }, timeoutMs);
      const waiter = (x: T) => {
        clearTimeout(timer);
        resolve(x);
      };
      this.waiters.push(waiter);
    });
  }

  /** Resolves after `ms` if nothing arrived; rejects with what arrived otherwise. */
  async none(ms: number): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
    if (this.items.length > 0)
      throw new Error(`unexpected message: ${JSON.stringify(this.items[0]).slice(0, 300)}`);
  }
}

function client(port: number) {
  const Ads = adsProto().envoy.service.discovery.v3.AggregatedDiscoveryService;
  return new Ads(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}

export class SotwClient {
  readonly responses = new Queue<DiscoveryResponse__Output>();
  private readonly call: grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse__Output>;
  private first = true;
  private readonly client: grpc.Client;

  constructor(
    port: number,
    private readonly node: TestNode,
  ) {
    const c = client(port);
    this.client = c;
    this.call = c.StreamAggregatedResources() as never;
    this.call.on('data', (r: DiscoveryResponse__Output) => this.responses.push(r));
    this.call.on('error', (e: Error) => this.responses.fail(e));
  }

  send(req: Omit<DiscoveryRequest, 'node'>): void {
    this.call.write({ ...req, ...(this.first ? { node: this.node } : {}) });
    this.first = false;
  }

  next(timeoutMs = 3_000): Promise<DiscoveryResponse__Output> {
    return this.responses.next(timeoutMs, 'response');
  }

  /** Sends the ACK for a response. */
  ack(r: DiscoveryResponse__Output, resourceNames: string[] = []): void {
    this.send({
      type_url: r.type_url,
      version_info: r.version_info,
      response_nonce: r.nonce,
      resource_names: resourceNames,
    });
  }

  close(): void {
    this.call.cancel();
    this.client.close();
  }
}

export class DeltaClient {
  readonly responses = new Queue<DeltaDiscoveryResponse__Output>();
  private readonly call: grpc.ClientDuplexStream<
    DeltaDiscoveryRequest,
    DeltaDiscoveryResponse__Output
  >;
  private first = true;
  private readonly client: grpc.Client;

  constructor(
    port: number,
    private readonly node: TestNode,
  ) {
    const c = client(port);
    this.client = c;
    this.call = c.DeltaAggregatedResources() as never;
    this.call.on('data', (r: DeltaDiscoveryResponse__Output) => this.responses.push(r));
    this.call.on('error', (e: Error) => this.responses.fail(e));
  }

  send(req: Omit<DeltaDiscoveryRequest, 'node'>): void {
    this.call.write({ ...req, ...(this.first ? { node: this.node } : {}) });
    this.first = false;
  }

  next(timeoutMs = 3_000): Promise<DeltaDiscoveryResponse__Output> {
    return this.responses.next(timeoutMs, 'delta response');
  }

  ack(r: DeltaDiscoveryResponse__Output): void {
    this.send({ type_url: r.type_url, response_nonce: r.nonce });
  }

  close(): void {
    this.call.cancel();
    this.client.close();
  }
}
