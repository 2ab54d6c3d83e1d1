// Forwarding a request to a cluster: weighted choice of the target, endpoint
// choice, upstream headers (X-Forwarded-*, X-Request-Id, mutations), mirrors,
// retries, the route timeout, and the status codes a gateway owes its
// clients: 503 when nothing can take the request, 502 when the upstream
// breaks the exchange, 504 when it is too slow. Bodies stream both ways.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { errors as undiciErrors } from 'undici';
import type { ForwardAction, CompiledRoute, WeightedTarget } from '../config/routes.js';
import type { GatewayConfig } from '../config/store.js';
import { applyMutation, forwardableHeaders, type HeaderBag } from './headers.js';
import type { Upstreams } from './upstream.js';

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
}

function chooseTarget(a: ForwardAction): WeightedTarget {
  if (a.targets.length === 1) return a.targets[0]!;
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

function upstreamHeaders(ctx: ForwardContext, target: WeightedTarget): HeaderBag {
  const h = forwardableHeaders(ctx.req.headers);
  const prior = h['x-forwarded-for'];
  h['x-forwarded-for'] = prior
    ? `${Array.isArray(prior) ? prior.join(', ') : prior}, ${ctx.clientAddress}`
    : ctx.clientAddress;
  h['x-forwarded-proto'] = ctx.scheme;
  h['x-forwarded-host'] ??= ctx.authority;
  h['x-request-id'] = ctx.requestId;
  h.host = ctx.action.hostRewrite ?? ctx.authority;
  applyMutation(h, ctx.route.request, ctx.clientAddress);
  applyMutation(h, target.request, ctx.clientAddress);
  return h;
}

type Outcome =
  { kind: 'response' } | { kind: 'error'; status: number; detail: string; retriable: boolean };

function classify(e: unknown, timedOut: boolean): Outcome {
  if (timedOut)
    return { kind: 'error', status: 504, detail: 'upstream request timeout', retriable: true };
  const code = (e as { code?: string }).code ?? '';
  if (
    e instanceof undiciErrors.ConnectTimeoutError ||
    code === 'ECONNREFUSED' ||
    code === 'EHOSTUNREACH' ||
    code === 'ENETUNREACH' ||
    code === 'UND_ERR_CONNECT_TIMEOUT'
  ) {
    return { kind: 'error', status: 503, detail: 'upstream connect error', retriable: true };
  }
  return { kind: 'error', status: 502, detail: 'upstream reset', retriable: true };
}

export function forward(ctx: ForwardContext): void {
  const a = ctx.action;
  const target = chooseTarget(a);
  const cluster = ctx.cfg.clusters.get(target.cluster);
  if (!cluster) return ctx.reply(a.clusterNotFoundStatus, 'cluster not found');
  const body = hasBody(ctx.req);
  const headers = upstreamHeaders(ctx, target);
  for (const m of a.mirrors)
    if (!body && Math.random() < m.fraction) mirror(ctx, m.cluster, headers);
  const retry = a.retry;
  const maxAttempts = 1 + (retry && !body ? retry.numRetries : 0);
  const deadline = a.timeoutMs > 0 ? Date.now() + a.timeoutMs : Infinity;
  let attempt = 0;

  const tryOnce = (): void => {
    attempt++;
    const ep = ctx.upstreams.pick(target.cluster, cluster);
    if (!ep) return ctx.reply(503, 'no healthy upstream');
    const controller = new AbortController();
    const perTry = retry?.perTryTimeoutMs;
    const remaining = deadline - Date.now();
    const limit = Math.min(remaining, perTry ?? Infinity);
    let timedOut = false;
    const timer = Number.isFinite(limit)
      ? setTimeout(
          () => {
            timedOut = true;
            controller.abort();
          },
          Math.max(0, limit),
        )
      : undefined;
    const onClientGone = () => controller.abort();
    ctx.res.once('close', onClientGone);
    ctx.upstreams
      .pool(ep, cluster.spec.connectTimeoutMs)
      .request({
        method: ctx.method as 'GET',
        path: ctx.path,
        headers,
        body: body ? (ctx.req as NodeJS.ReadableStream as never) : null,
        signal: controller.signal,
      })
      .then((up) => {
        const status = up.statusCode;
        if (
          retry &&
          attempt < maxAttempts &&
          retry.statusCodes.has(status) &&
          retry.on.has('retriable-status-codes')
        ) {
          up.body.resume();
          clearTimeout(timer);
          ctx.res.off('close', onClientGone);
          return void setTimeout(tryOnce, backoff(retry.backoffBaseMs, attempt));
        }
        const out = forwardableHeaders(up.headers);
        applyMutation(out, ctx.route.response, ctx.clientAddress);
        applyMutation(out, target.response, ctx.clientAddress);
        if (!ctx.res.headersSent) ctx.res.writeHead(status, out as never);
        up.body.on('error', () => ctx.res.destroy());
        up.body.on('end', () => {
          clearTimeout(timer);
          ctx.res.off('close', onClientGone);
        });
        up.body.pipe(ctx.res as NodeJS.WritableStream);
      })
      .catch((e: unknown) => {
        clearTimeout(timer);
        ctx.res.off('close', onClientGone);
        if (ctx.res.destroyed || ctx.res.writableEnded) return;
        const o = classify(e, timedOut);
        if (o.kind !== 'error') return;
        const canRetry =
          retry !== undefined &&
          attempt < maxAttempts &&
          Date.now() < deadline &&
          (o.status === 503
            ? retry.on.has('connect-failure') || retry.on.has('5xx')
            : retry.on.has('reset') || retry.on.has('5xx'));
        if (canRetry) return void setTimeout(tryOnce, backoff(retry!.backoffBaseMs, attempt));
        if (ctx.res.headersSent) return void ctx.res.destroy();
        ctx.reply(o.status, o.detail);
      });
  };
  tryOnce();
}

/** Envoy's fully jittered exponential back-off: random in [0, base × 2^(attempt−1)], capped at 10 × base. */
function backoff(baseMs: number, attempt: number): number {
  return Math.random() * Math.min(baseMs * 2 ** (attempt - 1), baseMs * 10);
}

/** Fire and forget: a copy of the request goes to the mirror cluster; its answer is dropped. */
function mirror(ctx: ForwardContext, clusterName: string, headers: HeaderBag): void {
  const cluster = ctx.cfg.clusters.get(clusterName);
  if (!cluster) return;
  const ep = ctx.upstreams.pick(clusterName, cluster);
  if (!ep) return;
  const h = { ...headers, host: `${headers.host}-shadow` };
  ctx.upstreams
    .pool(ep, cluster.spec.connectTimeoutMs)
    .request({ method: ctx.method as 'GET', path: ctx.path, headers: h })
    .then((r) => r.body.resume())
    .catch(() => {});
}
