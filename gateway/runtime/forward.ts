// Forwarding a request to a cluster: the weighted choice of the backend,
// the endpoint (upstream.ts), the upstream headers (forward-headers.ts),
// mirrors (mirror.ts), retries (retry.ts), the route and per-try timeouts,
// and the status codes a gateway owes its clients: 503 when nothing can take
// the request, 502 when the upstream breaks the exchange, 504 when it is too
// slow, 413 when a streamed body goes over the limit.
//
// Bodies stream both ways and are never held whole: the response goes from
// undici's handler callbacks straight into the client's response (the
// client's back-pressure pauses the upstream connection); the request body
// goes through RequestBody (body.ts). A request runs on the configuration it
// started with (ctx.cfg), whatever is applied meanwhile.
//
// Timeouts follow Envoy: the route timeout and the per-try timeout start
// once the client has sent the whole request and run until the response is
// complete; 0 disables either. Before the response has started a timeout
// answers 504; after, the client's stream is reset.
import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { CompiledRoute, ForwardAction, WeightedTarget } from '../config/routes.js';
import type { ClusterRuntime, GatewayConfig } from '../config/store.js';
import { RequestBody, type BodyOwner } from './body.js';
import { downstreamHeaders, upstreamHeaders, type FlatHeaders } from './forward-headers.js';
import type { HeaderBag } from './headers.js';
import { startMirrors } from './mirror.js';
import {
  backoffMs,
  classify,
  compileRetry,
  retriableStatus,
  TIMEOUT,
  type CompiledRetry,
  type Failure,
} from './retry.js';
import type { Upstreams } from './upstream.js';
import { splice, upgradeKind, upgradeOf, type UpgradeInfo } from './websocket.js';

export type DownstreamRequest = IncomingMessage | Http2ServerRequest;
export type DownstreamResponse = ServerResponse | Http2ServerResponse;

export interface ForwardContext {
  cfg: GatewayConfig;
  route: CompiledRoute;
  action: ForwardAction;
  req: DownstreamRequest;
  res: DownstreamResponse;
  method: string;
  /** Path and query to send upstream (normalized and rewritten). */
  path: string;
  authority: string;
  scheme: 'http' | 'https';
  clientAddress: string;
  requestId: string;
  upstreams: Upstreams;
  /** Sends a local reply (status and a short text body). */
  reply: (status: number, body: string) => void;
  /** Streamed (chunked or HTTP/2) request bodies larger than this get 413. Default: no limit. */
  maxRequestBodyBytes?: number;
}

const NO_HEALTHY_UPSTREAM: Failure = { kind: 0, status: 503, detail: 'no healthy upstream' };
const BAD_RESPONSE: Failure = { kind: 0, status: 502, detail: 'upstream protocol error' };

const PENDING = 0;
const RESPONDING = 1;
const DONE = 2;

const kExchange = Symbol('gatefleet.exchange');

function chooseTarget(a: ForwardAction): WeightedTarget {
  let x = Math.random() * a.totalWeight;
  for (const t of a.targets) {
    x -= t.weight;
    if (x < 0) return t;
  }
  return a.targets[a.targets.length - 1]!;
}

function hasBody(req: DownstreamRequest): boolean {
  const h = req.headers;
  if (h['transfer-encoding'] !== undefined) return true;
  const cl = h['content-length'];
  if (cl !== undefined) return cl !== '0';
  const stream = (req as Http2ServerRequest).stream;
  return stream !== undefined && !stream.endAfterHeaders;
}

export function forward(ctx: ForwardContext): void {
  const a = ctx.action;
  const target = a.targets.length === 1 ? a.targets[0]! : chooseTarget(a);
  const cluster = ctx.cfg.clusters.get(target.cluster);
  if (cluster === undefined) return ctx.reply(a.clusterNotFoundStatus, 'cluster not found');
  let upgrade = upgradeOf(ctx.req);
  if (upgrade !== undefined) {
    const kind = upgradeKind(ctx.req);
    if (kind === 'h2c') upgrade = undefined;
    else if (kind !== 'websocket' || !a.websocket) return ctx.reply(403, 'upgrade not allowed');
  }
  new Exchange(ctx, target, cluster, upgrade).start();
}

/** The client's response closed: if the exchange is not over, the client went away. */
function onResponseClose(this: DownstreamResponse): void {
  (this as { [kExchange]?: Exchange })[kExchange]?.clientGone();
}

function onTimer(ex: Exchange): void {
  ex.onTimer();
}

/** One request's way through the gateway, over one or more attempts. */
class Exchange implements BodyOwner {
  private state = PENDING;
  private headers: FlatHeaders | HeaderBag = [];
  private readonly retry: CompiledRetry | undefined;
  private readonly maxAttempts: number;
  private body: RequestBody | null = null;
  private attempt: Attempt | null = null;
  private attempts = 0;
  private requestComplete = true;
  /** Absolute times (ms); Infinity when not set. One timer serves all three. */
  private deadline = Infinity;
  private tryDeadline = Infinity;
  private retryAt = Infinity;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  /** A retry is due but the client has not sent the whole body yet. */
  private retryWhenComplete = false;
  private resume: (() => void) | null = null;

  constructor(
    private readonly ctx: ForwardContext,
    private readonly target: WeightedTarget,
    private readonly cluster: ClusterRuntime,
    private readonly upgrade: UpgradeInfo | undefined,
  ) {
    const r = ctx.action.retry;
    this.retry = r === undefined || upgrade !== undefined ? undefined : compileRetry(r);
    this.maxAttempts = this.retry === undefined ? 1 : 1 + this.retry.numRetries;
  }

  start(): void {
    const ctx = this.ctx;
    const a = ctx.action;
    const req = ctx.req;
    const host = a.hostRewrite ?? ctx.authority;
    this.headers = upstreamHeaders(
      {
        rawHeaders: req.rawHeaders,
        connection: req.headers.connection,
        host,
        authority: ctx.authority,
        scheme: ctx.scheme,
        clientAddress: ctx.clientAddress,
        requestId: ctx.requestId,
        teTrailers: this.cluster.spec.http2,
      },
      ctx.route.request,
      this.target.request,
    );
    if (this.upgrade === undefined && hasBody(req)) {
      this.requestComplete = false;
      this.body = new RequestBody(
        req,
        this,
        ctx.maxRequestBodyBytes ?? Infinity,
        this.maxAttempts > 1,
      );
    }
    if (a.mirrors.length > 0 && this.upgrade === undefined)
      startMirrors(ctx, host, this.headers, this.body);
    (ctx.res as { [kExchange]?: Exchange })[kExchange] = this;
    ctx.res.on('close', onResponseClose); // emitted once; `on` spares once()'s wrapper
    if (this.requestComplete && a.timeoutMs > 0) this.deadline = Date.now() + a.timeoutMs;
    this.send();
  }

  private send(): void {
    const ctx = this.ctx;
    const d = ctx.upstreams.pick(this.cluster);
    if (d === undefined) return this.fail(NO_HEALTHY_UPSTREAM);
    this.attempts++;
    const at = new Attempt(this);
    this.attempt = at;
    const perTry = this.retry?.perTryTimeoutMs ?? 0;
    this.tryDeadline = perTry > 0 && this.requestComplete ? Date.now() + perTry : Infinity;
    this.arm();
    const body = this.body;
    try {
      d.dispatch(
        {
          method: ctx.method as Dispatcher.HttpMethod,
          path: ctx.path,
          headers: this.headers,
          body: body === null ? null : this.attempts === 1 ? body.stream() : body.replay(),
          upgrade: this.upgrade === undefined ? null : 'websocket',
        },
        at,
      );
    } catch {
      // undici refuses requests it cannot write (e.g. a header it will not send).
      this.attempt = null;
      this.fail(BAD_RESPONSE);
    }
  }

  /** (Re)arms the one timer for the earliest of the deadlines. */
  private arm(): void {
    if (this.state === DONE) return;
    const at = Math.min(this.deadline, this.tryDeadline, this.retryAt);
    if (at === this.timerAt) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = at === Infinity ? undefined : setTimeout(onTimer, at - Date.now(), this);
  }

  private disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  onTimer(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    if (this.state === DONE) return;
    const now = Date.now();
    if (now >= this.deadline) {
      this.attempt?.cancel();
      this.attempt = null;
      if (this.state === RESPONDING) return this.reset();
      return this.fail(TIMEOUT);
    }
    if (now >= this.tryDeadline) {
      this.tryDeadline = Infinity;
      this.attempt?.cancel();
      this.attempt = null;
      if (this.state === RESPONDING) return this.reset();
      return this.failed(TIMEOUT);
    }
    if (now >= this.retryAt) {
      this.retryAt = Infinity;
      if (this.body !== null && !this.body.ended) this.retryWhenComplete = true;
      else this.send();
    }
    this.arm();
  }

  /** An attempt failed before any response went downstream: retry, or answer. */
  private failed(f: Failure): void {
    const r = this.retry;
    if (r !== undefined && (r.failures & f.kind) !== 0 && this.canRetry()) return this.again(r);
    this.fail(f);
  }

  private canRetry(): boolean {
    return (
      this.attempts < this.maxAttempts &&
      Date.now() < this.deadline &&
      (this.body === null || this.body.replayable())
    );
  }

  private again(r: CompiledRetry): void {
    this.body?.detach();
    this.tryDeadline = Infinity;
    this.retryAt = Date.now() + backoffMs(r, this.attempts);
    this.arm();
  }

  /** Ends the exchange with a local reply (or a reset once the response has started). */
  private fail(f: Failure): void {
    if (this.state === DONE) return;
    const responding = this.state === RESPONDING;
    this.finish();
    if (responding || this.ctx.res.headersSent) this.ctx.res.destroy();
    else this.ctx.reply(f.status, f.detail);
  }

  /** The response had started: all the client can be told is that it is cut short. */
  private reset(): void {
    this.finish();
    this.ctx.res.destroy();
  }

  private finish(): void {
    this.state = DONE;
    this.disarm();
    const b = this.body;
    if (b === null) return;
    b.stop();
    if (b.ended) return;
    // The client is still sending a body nobody will read: what it sends
    // meanwhile is discarded, and an HTTP/1.1 connection whose response has
    // not started closes after it (it could not be reused before the body
    // ends anyway).
    const res = this.ctx.res;
    if (res instanceof ServerResponse) {
      if (!res.headersSent) res.shouldKeepAlive = false;
      this.ctx.req.resume();
    }
  }

  // Attempt callbacks (from undici, through Attempt).

  onHeaders(at: Attempt, status: number, raw: Buffer[], resume: () => void): boolean {
    if (status < 200) return true; // 1xx: informational, not relayed
    const r = this.retry;
    if (r !== undefined && retriableStatus(r, status) && this.canRetry()) {
      at.discard(); // read to the end and dropped, so the connection is reused
      this.attempt = null;
      this.again(r);
      return true;
    }
    const ctx = this.ctx;
    this.state = RESPONDING;
    this.resume = resume;
    try {
      ctx.res.writeHead(
        status,
        downstreamHeaders(
          raw,
          ctx.route.response,
          this.target.response,
          ctx.clientAddress,
        ) as never,
      );
    } catch {
      // Node refused what the upstream sent (status or header value).
      at.cancel();
      this.attempt = null;
      this.state = PENDING;
      this.fail(BAD_RESPONSE);
      return false;
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    const res = this.ctx.res as ServerResponse; // same write() contract for HTTP/2
    if (res.write(chunk)) return true;
    res.once('drain', this.resume!);
    return false;
  }

  onComplete(): void {
    if (this.state === DONE) return;
    this.attempt = null;
    this.finish();
    this.ctx.res.end();
  }

  onError(at: Attempt, err: Error): void {
    if (this.state === DONE) return;
    this.attempt = null;
    if (this.state === RESPONDING) return this.reset();
    this.failed(classify(err, at.written));
  }

  onUpgrade(raw: Buffer[], socket: Duplex): void {
    this.attempt = null;
    this.finish();
    splice(this.upgrade!, this.ctx.res as ServerResponse, raw, socket);
  }

  // Client side.

  clientGone(): void {
    if (this.state === DONE) return;
    this.attempt?.cancel();
    this.attempt = null;
    this.finish();
  }

  onBodyComplete(): void {
    this.requestComplete = true;
    if (this.state === DONE) return;
    const now = Date.now();
    if (this.ctx.action.timeoutMs > 0) this.deadline = now + this.ctx.action.timeoutMs;
    const perTry = this.retry?.perTryTimeoutMs ?? 0;
    if (perTry > 0 && this.attempt !== null) this.tryDeadline = now + perTry;
    if (this.retryWhenComplete) {
      this.retryWhenComplete = false;
      this.send();
      return;
    }
    this.arm();
  }

  onBodyLimit(): void {
    if (this.state === DONE) return;
    this.attempt?.cancel();
    this.attempt = null;
    const res = this.ctx.res;
    if (this.state === RESPONDING || res.headersSent) return this.reset();
    this.finish();
    this.ctx.reply(413, 'request body too large');
  }
}

/**
 * undici's handler for one attempt. Callbacks of an attempt the exchange has
 * given up on are ignored: `cancel` aborts it, `discard` lets undici read the
 * rest of the response (so the connection is reused) and drops it.
 */
class Attempt implements Dispatcher.DispatchHandler {
  /** undici has handed the request to a connection (so a failure is not a connect failure). */
  written = false;
  private abort: ((err?: Error) => void) | null = null;
  private stale = false;

  constructor(private readonly ex: Exchange) {}

  onConnect(abort: (err?: Error) => void): void {
    if (this.stale) return abort();
    this.abort = abort;
    this.written = true;
  }

  onHeaders(status: number, raw: Buffer[], resume: () => void): boolean {
    return this.stale || this.ex.onHeaders(this, status, raw, resume);
  }

  onData(chunk: Buffer): boolean {
    return this.stale || this.ex.onData(chunk);
  }

  onComplete(): void {
    if (!this.stale) this.ex.onComplete();
  }

  onError(err: Error): void {
    if (!this.stale) this.ex.onError(this, err);
  }

  onUpgrade(_status: number, raw: Buffer[] | string[] | null, socket: Duplex): void {
    if (this.stale) socket.destroy();
    else this.ex.onUpgrade((raw ?? []) as Buffer[], socket);
  }

  cancel(): void {
    if (this.stale) return;
    this.stale = true;
    this.abort?.();
  }

  discard(): void {
    this.stale = true;
  }
}
