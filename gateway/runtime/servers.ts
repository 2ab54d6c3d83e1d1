// The listening sockets: one server per Listener address, opened when a
// listener appears, closed when it goes (connections in flight finish).
// A port that cannot be bound fails the update that asked for it, so the
// gateway NACKs it and keeps what it had. Plain listeners speak HTTP/1.1
// and HTTP/2 with prior knowledge (h2c.ts); TLS listeners pick their certificate by SNI and speak h2 or HTTP/1.1 (ALPN).
//
// Client certificates (client-certs.ts): a TLS port whose chains validate
// them requests one in every handshake; each chain's context verifies it
// against that chain's CAs.
//
// HTTP/1.1 is parsed by Node's strict parser on both kinds of listener (the
// TLS server's HTTP/1.1 fallback reads the same settings from the server
// object). A request the parser finds malformed never reaches the handler:
// Node's default clientError handling answers 400 (431 past the header size
// limit, 408 on the headers timeout; nothing if a response has started on
// the connection) and closes it. What the parser lets through is checked
// by the handler (request-checks.ts).
import { createServer, type Server as HttpServer } from 'node:http';
import {
  createSecureServer,
  createServer as createH2cServer,
  type Http2SecureServer,
} from 'node:http2';
import type { Socket } from 'node:net';
import type { SecureContextOptions, TLSSocket } from 'node:tls';
import type { CompiledListener } from '../config/listeners.js';
import { contextWithCa, type CompiledSecret } from '../config/secrets.js';
import type { GatewayConfig } from '../config/store.js';
import { ConfigError } from '../config/decode.js';
import type { DownstreamRequest, DownstreamResponse } from './forward.js';
import { DEFAULT_LIMITS, type ServerLimits } from './limits.js';
import { selectChain } from './lookup.js';
import { acceptPriorKnowledge } from './h2c.js';
import { clientCertMode, refuseClientCertificate } from './client-certs.js';
import { upgradeResponse } from './websocket.js';

export { DEFAULT_LIMITS, type ServerLimits };

type AnyServer = HttpServer | Http2SecureServer;

interface Open {
  key: string;
  servers: AnyServer[];
  sockets: Set<Socket>;
  /** TLS: the certificate served to clients that send no SNI, when one applies. */
  defaultSecret?: CompiledSecret;
  /** The client CAs the default context was built with. */
  defaultCa?: string;
}

/** What a server is created with: another key means new servers. */
function keyOf(l: CompiledListener): string {
  const tls = l.tls ? `tls|${clientCertMode(l)}` : 'plain';
  return `${l.addresses.join(',')}|${l.port}|${tls}`;
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
        opened.push([name, await this.listen(name, l, next)]);
      }
    } catch (e) {
      await Promise.all(opened.map(([, o]) => closeAll(o)));
      throw e;
    }
    for (const [name, o] of opened) this.open.set(name, o);
    for (const [name, o] of [...this.open]) {
      const l = next.listeners.get(name);
      if (l) updateDefaultCertificate(o, l, next);
      else {
        this.open.delete(name);
        void closeAll(o);
      }
    }
  }

  private async listen(name: string, l: CompiledListener, cfg: GatewayConfig): Promise<Open> {
    const o: Open = { key: keyOf(l), servers: [], sockets: new Set() };
    const d = defaultSecret(l, cfg);
    if (d) {
      o.defaultSecret = d.secret;
      if (d.ca !== undefined) o.defaultCa = d.ca;
    }
    try {
      for (const address of l.addresses) {
        const s = l.tls ? this.tlsServer(name, l) : this.plainServer(name);
        if (d) (s as Http2SecureServer).setSecureContext(secureContextOptions(d));
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
        // The handler refuses a missing Host itself (request-checks.ts).
        requireHostHeader: false,
        insecureHTTPParser: false,
        keepAliveTimeout: this.limits.keepAliveTimeoutMs,
        headersTimeout: this.limits.headersTimeoutMs,
        requestTimeout: 0,
      },
      (req, res) => this.handle(name, req, res),
    );
    // WebSocket upgrades go through the handler like any request; the
    // response object it gets joins the two sockets after the 101.
    s.on('upgrade', (req, socket, head) =>
      this.handle(name, req, upgradeResponse(req, socket, head)),
    );
    // One more than allowed, so the handler sees that there are too many
    // (Node would otherwise drop the extra headers silently).
    s.maxHeadersCount = this.limits.maxHeadersCount + 1;
    const h2c = createH2cServer(
      {
        maxHeaderListPairs: 256,
        maxSessionMemory: 64,
        settings: { maxHeaderListSize: this.limits.maxHeaderBytes },
      },
      (req, res) => this.handle(name, req, res),
    );
    acceptPriorKnowledge(s, h2c, this.limits.headersTimeoutMs);
    return s;
  }

  private tlsServer(name: string, l: CompiledListener): Http2SecureServer {
    const mode = clientCertMode(l);
    const s = createSecureServer(
      {
        // Client certificates are requested when a chain validates them;
        // OpenSSL refuses the handshake itself only when every chain needs a
        // verified one, otherwise each connection is checked for its chain.
        requestCert: mode !== 'none',
        rejectUnauthorized: mode === 'all-verified',
        allowHTTP1: true,
        maxHeaderListPairs: 256,
        maxSessionMemory: 64,
        // HTTP/2 streams whose header list is larger are reset.
        settings: { maxHeaderListSize: this.limits.maxHeaderBytes },
        SNICallback: (serverName, cb) => {
          const cfg = this.config();
          const l = cfg.listeners.get(name);
          const chain = l && selectChain(l, serverName);
          const secret = chain && cfg.secrets.get(chain.certificates[0] ?? '');
          if (!secret) return cb(new Error(`no certificate for ${serverName || '(no SNI)'}`));
          cb(null, contextWithCa(secret, chain.clientCa));
        },
      },
      (req, res) => this.handle(name, req, res),
    );
    s.on('tlsClientError', () => {});
    if (mode === 'per-chain') {
      // Before the HTTP layer sees the connection.
      s.prependListener('secureConnection', (socket: TLSSocket) => {
        const cur = this.config().listeners.get(name);
        const chain = cur && selectChain(cur, socket.servername ?? undefined);
        if (chain && refuseClientCertificate(chain, socket)) socket.destroy();
      });
    }
    // HTTP/1.1 over TLS can upgrade to WebSocket too.
    s.on('upgrade', (req, socket, head) =>
      this.handle(name, req, upgradeResponse(req, socket, head)),
    );
    // The HTTP/1.1 fallback reads these from the server object, as a plain
    // server would have them from its options.
    Object.assign(s, {
      maxHeaderSize: this.limits.maxHeaderBytes,
      maxHeadersCount: this.limits.maxHeadersCount + 1,
      requireHostHeader: false,
      insecureHTTPParser: false,
      keepAliveTimeout: this.limits.keepAliveTimeoutMs,
    });
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

/**
 * Node asks the SNI callback only when the client sends a server name; a
 * client without SNI gets the server's default context, which is kept to
 * the certificate of the chain a missing SNI selects (none: the handshake
 * fails, as with Envoy when no filter chain matches).
 */
function defaultSecret(
  l: CompiledListener,
  cfg: GatewayConfig,
): { secret: CompiledSecret; ca?: string } | undefined {
  if (!l.tls) return undefined;
  const chain = selectChain(l, undefined);
  const secret = chain && cfg.secrets.get(chain.certificates[0] ?? '');
  if (!secret) return undefined;
  return chain.clientCa === undefined ? { secret } : { secret, ca: chain.clientCa };
}

function secureContextOptions(d: { secret: CompiledSecret; ca?: string }): SecureContextOptions {
  return d.ca === undefined ? d.secret.pem : { ...d.secret.pem, ca: d.ca };
}

function updateDefaultCertificate(o: Open, l: CompiledListener, cfg: GatewayConfig): void {
  const d = defaultSecret(l, cfg);
  if (!d || (d.secret === o.defaultSecret && d.ca === o.defaultCa)) return;
  o.defaultSecret = d.secret;
  if (d.ca === undefined) delete o.defaultCa;
  else o.defaultCa = d.ca;
  for (const s of o.servers as Http2SecureServer[]) s.setSecureContext(secureContextOptions(d));
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
