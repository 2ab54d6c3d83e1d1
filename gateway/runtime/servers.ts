// The listening sockets: one server per Listener address, opened when a
// listener appears, closed when it goes (connections in flight finish).
// A port that cannot be bound fails the update that asked for it, so the
// gateway NACKs it and keeps what it had. Plain listeners speak HTTP/1.1;
// TLS listeners pick their certificate by SNI and speak h2 or HTTP/1.1 (ALPN).
import { createServer, type Server as HttpServer } from 'node:http';
import { createSecureServer, type Http2SecureServer } from 'node:http2';
import type { Socket } from 'node:net';
import type { CompiledListener } from '../config/listeners.js';
import type { GatewayConfig } from '../config/store.js';
import { ConfigError } from '../config/decode.js';
import type { DownstreamRequest, DownstreamResponse } from './forward.js';
import { selectChain } from './lookup.js';

export interface ServerLimits {
  /** Largest request header section accepted, in bytes (larger: 431). */
  maxHeaderBytes: number;
  /** Idle keep-alive connections are closed after this long. */
  keepAliveTimeoutMs: number;
  /** A request's headers must arrive within this long. */
  headersTimeoutMs: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  maxHeaderBytes: 60 * 1024,
  keepAliveTimeoutMs: 60_000,
  headersTimeoutMs: 60_000,
};

type AnyServer = HttpServer | Http2SecureServer;

interface Open {
  key: string;
  servers: AnyServer[];
  sockets: Set<Socket>;
}

function keyOf(l: CompiledListener): string {
  return `${l.addresses.join(',')}|${l.port}|${l.tls ? 'tls' : 'plain'}`;
}

export class ListenerSet {
  private readonly open = new Map<string, Open>();

  constructor(
    private readonly config: () => GatewayConfig,
    private readonly handle: (
      listener: string,
      req: DownstreamRequest,
      res: DownstreamResponse,
    ) => void,
    private readonly limits: ServerLimits = DEFAULT_LIMITS,
  ) {}

  /** The listeners open now, with their ports (tests bind port 0). */
  ports(): Map<string, number[]> {
    return new Map(
      [...this.open].map(([n, o]) => [
        n,
        o.servers.map((s) => (s.address() as { port: number } | null)?.port ?? 0),
      ]),
    );
  }

  /**
   * Opens what `next` adds, then closes what it drops or changes. Throws
   * ConfigError (and opens nothing) when a port cannot be bound.
   */
  async reconcile(next: GatewayConfig): Promise<void> {
    const opened: [string, Open][] = [];
    try {
      for (const [name, l] of next.listeners) {
        const cur = this.open.get(name);
        if (cur && cur.key === keyOf(l)) continue;
        if (cur) {
          // Same name, new address or port: release the old one first so a
          // listener can move between addresses on the same port.
          this.open.delete(name);
          await closeAll(cur);
        }
        opened.push([name, await this.listen(name, l)]);
      }
    } catch (e) {
      await Promise.all(opened.map(([, o]) => closeAll(o)));
      throw e;
    }
    for (const [name, o] of opened) this.open.set(name, o);
    for (const [name, o] of [...this.open]) {
      if (!next.listeners.has(name)) {
        this.open.delete(name);
        void closeAll(o);
      }
    }
  }

  private async listen(name: string, l: CompiledListener): Promise<Open> {
    const o: Open = { key: keyOf(l), servers: [], sockets: new Set() };
    try {
      for (const address of l.addresses) {
        const s = l.tls ? this.tlsServer(name) : this.plainServer(name);
        s.on('connection', (sock: Socket) => {
          o.sockets.add(sock);
          sock.once('close', () => o.sockets.delete(sock));
        });
        await new Promise<void>((resolve, reject) => {
          s.once('error', reject);
          s.listen(l.port, address, () => {
            s.off('error', reject);
            resolve();
          });
        });
        o.servers.push(s);
      }
      return o;
    } catch (e) {
      await closeAll(o);
      const err = e as NodeJS.ErrnoException;
      throw new ConfigError(
        `Listener ${name}: cannot listen on ${l.addresses.join(', ')} port ${l.port}: ${err.code ?? err.message}`,
      );
    }
  }

  private plainServer(name: string): HttpServer {
    const s = createServer(
      {
        maxHeaderSize: this.limits.maxHeaderBytes,
        requireHostHeader: true,
        insecureHTTPParser: false,
        keepAliveTimeout: this.limits.keepAliveTimeoutMs,
        headersTimeout: this.limits.headersTimeoutMs,
        requestTimeout: 0,
      },
      (req, res) => this.handle(name, req, res),
    );
    s.on('clientError', (_err, socket) => {
      if (socket.writable)
        socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      else socket.destroy();
    });
    return s;
  }

  private tlsServer(name: string): Http2SecureServer {
    const s = createSecureServer(
      {
        allowHTTP1: true,
        maxHeaderListPairs: 256,
        maxSessionMemory: 64,
        SNICallback: (serverName, cb) => {
          const cfg = this.config();
          const l = cfg.listeners.get(name);
          const chain = l && selectChain(l, serverName);
          const secret = chain && cfg.secrets.get(chain.certificates[0] ?? '');
          if (!secret) return cb(new Error(`no certificate for ${serverName || '(no SNI)'}`));
          cb(null, secret.context);
        },
      },
      (req, res) => this.handle(name, req, res),
    );
    s.on('tlsClientError', () => {});
    return s;
  }

  /** Stops accepting everywhere; resolves when every connection has closed (or after `graceMs`). */
  async drain(graceMs: number): Promise<void> {
    const all = [...this.open.values()];
    this.open.clear();
    await Promise.race([
      Promise.all(all.map(closeAll)),
      new Promise((r) => setTimeout(r, graceMs).unref()),
    ]);
    for (const o of all) for (const sock of o.sockets) sock.destroy();
  }
}

/** Stops accepting; idle keep-alive connections close now, busy ones when done. */
function closeAll(o: Open): Promise<void> {
  return Promise.all(
    o.servers.map(
      (s) =>
        new Promise<void>((resolve) => {
          s.close(() => resolve());
          (s as HttpServer).closeIdleConnections?.();
        }),
    ),
  ).then(() => undefined);
}
