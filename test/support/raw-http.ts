// Raw HTTP/1.1 over a TCP socket, for requests no well-behaved client would
// send (smuggling attempts, malformed headers): the exact bytes go out, and
// everything the server answers comes back until it closes the connection.
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';

export interface RawExchange {
  /** Everything received, as latin1. */
  text: string;
  /** The status codes of the responses received, in order. */
  statuses: number[];
  /** True when the server closed the connection (rather than the idle timeout ending it). */
  closedByServer: boolean;
}

/**
 * Sends `bytes` and collects the answer until the server closes the
 * connection or nothing arrives for `idleMs` after the last byte. With
 * `tls`, the bytes go over TLS (HTTP/1.1 by ALPN).
 */
export function rawExchange(
  port: number,
  bytes: string | Buffer,
  opts: { idleMs?: number; tls?: ConnectionOptions } = {},
): Promise<RawExchange> {
  const idleMs = opts.idleMs ?? 2_000;
  return new Promise((resolve, reject) => {
    const sock: Socket = opts.tls
      ? tlsConnect({ host: '127.0.0.1', port, ALPNProtocols: ['http/1.1'], ...opts.tls })
      : connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let closedByServer = true;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        closedByServer = false;
        sock.destroy();
      }, idleMs);
    };
    sock.once(opts.tls ? 'secureConnect' : 'connect', () => {
      sock.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
      arm();
    });
    sock.on('data', (d: Buffer) => {
      chunks.push(d);
      arm();
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      // A reset after the answer still leaves the answer to check.
      if (e.code !== 'ECONNRESET' || chunks.length === 0) reject(e);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      const statuses = [...text.matchAll(/(?:^|\r\n)HTTP\/1\.[01] (\d{3}) /g)].map((m) =>
        Number(m[1]),
      );
      resolve({ text, statuses, closedByServer });
    });
  });
}
