// Plain JSON over the API server's REST interface, authenticated from a
// KubeConfig. The typed clients turn timestamps into Dates and cannot send
// every patch type; the controller works on the objects exactly as the API
// server serves them, so it talks JSON itself. One keep-alive agent bounds
// the connections a burst of writes can open.
import { Agent, request, type RequestOptions } from 'node:https';
import { request as plainRequest, Agent as PlainAgent } from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';

export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly method: string,
    readonly path: string,
  ) {
    super(`${method} ${path}: ${status} ${reason}: ${message}`);
  }
}

export function isStatus(e: unknown, ...codes: number[]): boolean {
  return e instanceof KubeApiError && codes.includes(e.status);
}

export interface RequestInit {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** Defaults to application/json when there is a body. */
  contentType?: string;
  timeoutMs?: number;
}

/** Credentials are re-read this often: in-cluster tokens rotate. */
const AUTH_REFRESH_MS = 30_000;

export class KubeRest {
  private readonly server: URL;
  private readonly agent: Agent | PlainAgent;
  private auth?: { at: number; opts: RequestOptions };

  constructor(
    private readonly kc: KubeConfig,
    maxSockets = 16,
  ) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    this.server = new URL(cluster.server);
    this.agent =
      this.server.protocol === 'https:'
        ? new Agent({ keepAlive: true, maxSockets })
        : new PlainAgent({ keepAlive: true, maxSockets });
  }

  private async options(): Promise<RequestOptions> {
    if (!this.auth || Date.now() - this.auth.at > AUTH_REFRESH_MS) {
      const opts: RequestOptions = {};
      await this.kc.applyToHTTPSOptions(opts);
      this.auth = { at: Date.now(), opts };
    }
    return this.auth.opts;
  }

  async request<T = unknown>(method: string, path: string, init: RequestInit = {}): Promise<T> {
    const url = new URL(this.server.pathname.replace(/\/$/, '') + path, this.server);
    for (const [k, v] of Object.entries(init.query ?? {})) {
      if (v !== undefined) url.searchParams.set(k, String(v));
    }
    const auth = await this.options();
    const body = init.body === undefined ? undefined : JSON.stringify(init.body);
    const headers: Record<string, string> = {
      ...((auth.headers as Record<string, string>) ?? {}),
      accept: 'application/json',
    };
    if (body !== undefined) {
      headers['content-type'] = init.contentType ?? 'application/json';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    const send = this.server.protocol === 'https:' ? request : plainRequest;
    return new Promise<T>((resolve, reject) => {
      const req = send(
        url,
        {
          method,
          headers,
          agent: this.agent,
          ca: auth.ca,
          cert: auth.cert,
          key: auth.key,
          pfx: auth.pfx,
          passphrase: auth.passphrase,
          servername: auth.servername,
          ...(auth.rejectUnauthorized !== undefined
            ? { rejectUnauthorized: auth.rejectUnauthorized }
            : {}),
          ...(auth.auth ? { auth: auth.auth } : {}),
          timeout: init.timeoutMs ?? 30_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const status = res.statusCode ?? 0;
            let parsed: unknown;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              parsed = undefined;
            }
            if (status >= 200 && status < 300) return resolve(parsed as T);
            const s = parsed as { reason?: string; message?: string } | undefined;
            reject(
              new KubeApiError(
                status,
                s?.reason ?? res.statusMessage ?? '',
                s?.message ?? text.slice(0, 500),
                method,
                url.pathname,
              ),
            );
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${url.pathname}: timed out`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  get<T = unknown>(path: string, query?: RequestInit['query']): Promise<T> {
    return this.request<T>('GET', path, { query });
  }

  close(): void {
    this.agent.destroy();
  }
}
