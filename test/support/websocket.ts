// A minimal WebSocket (RFC 6455) for tests, over node:http's upgrade and a
// raw node:net client: the opening handshake, and unfragmented text frames
// (masked from the client, unmasked from the server) of any length.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const TEXT = 0x1;
const CLOSE = 0x8;

export function acceptKey(key: string): string {
  return createHash('sha1')
    .update(key + GUID)
    .digest('base64');
}

export function frame(opcode: number, payload: Buffer, masked: boolean): Buffer {
  const len = payload.length;
  const head: number[] = [0x80 | opcode];
  const maskBit = masked ? 0x80 : 0;
  if (len < 126) head.push(maskBit | len);
  else if (len < 65536) head.push(maskBit | 126, len >> 8, len & 0xff);
  else {
    head.push(maskBit | 127, 0, 0, 0, 0);
    head.push((len >>> 24) & 0xff, (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff);
  }
  if (!masked) return Buffer.concat([Buffer.from(head), payload]);
  const mask = randomBytes(4);
  const body = Buffer.alloc(len);
  for (let i = 0; i < len; i++) body[i] = payload[i]! ^ mask[i & 3]!;
  return Buffer.concat([Buffer.from(head), mask, body]);
}

/** Splits a byte stream into frames: calls `onFrame(opcode, payload)` for each whole one. */
export function frameReader(onFrame: (opcode: number, payload: Buffer) => void) {
  let buf = Buffer.alloc(0);
  return (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      if (buf.length < 2) return;
      const opcode = buf[0]! & 0x0f;
      const masked = (buf[1]! & 0x80) !== 0;
      let len = buf[1]! & 0x7f;
      let off = 2;
      if (len === 126) {
        if (buf.length < 4) return;
        len = buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (buf.length < 10) return;
        len = Number(buf.readBigUInt64BE(2));
        off = 10;
      }
      const maskOff = off;
      if (masked) off += 4;
      if (buf.length < off + len) return;
      const payload = Buffer.from(buf.subarray(off, off + len));
      if (masked) for (let i = 0; i < len; i++) payload[i]! ^= buf[maskOff + (i & 3)]!;
      buf = buf.subarray(off + len);
      onFrame(opcode, payload);
    }
  };
}

export interface WsEchoServer {
  port: number;
  server: Server;
  /** Handshake request headers, per upgrade accepted. */
  upgrades: IncomingHttpHeaders[];
  /** Upgraded connections still open. */
  open: () => number;
  close: () => Promise<void>;
}

/** Accepts WebSocket upgrades and echoes each text frame back as `echo: <text>`. */
export async function wsEchoServer(): Promise<WsEchoServer> {
  const sockets = new Set<Duplex>();
  const server = createServer((req, res) => {
    req.resume();
    res.end(`plain ${req.headers.upgrade ?? 'no upgrade'}`);
  });
  const out: WsEchoServer = {
    port: 0,
    server,
    upgrades: [],
    open: () => sockets.size,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
  server.on('upgrade', (req, socket: Duplex, head: Buffer) => {
    out.upgrades.push(req.headers);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('end', () => socket.end());
    socket.on('error', () => socket.destroy());
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${acceptKey(String(req.headers['sec-websocket-key']))}\r\n\r\n`,
    );
    const read = frameReader((opcode, payload) => {
      if (opcode === CLOSE) return void socket.end(frame(CLOSE, Buffer.alloc(0), false));
      if (opcode === TEXT) socket.write(frame(TEXT, Buffer.from(`echo: ${payload}`), false));
    });
    if (head.length > 0) read(head);
    socket.on('data', read);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  out.port = (server.address() as { port: number }).port;
  return out;
}

export interface WsClient {
  /** The handshake response's status and raw head. */
  status: number;
  head: string;
  /** Sends a text frame. */
  send: (text: string) => void;
  /** The next text frame from the server. */
  next: () => Promise<string>;
  close: () => void;
  socket: Socket;
}

/** Opens a WebSocket to `port` with `host`; resolves after the handshake response (101 or not). */
export function wsConnect(port: number, host: string, path = '/'): Promise<WsClient> {
  return new Promise((resolve, reject) => {
    const key = randomBytes(16).toString('base64');
    const socket = connect(port, '127.0.0.1');
    const texts: string[] = [];
    const waiters: ((s: string) => void)[] = [];
    const read = frameReader((opcode, payload) => {
      if (opcode !== TEXT) return;
      const w = waiters.shift();
      if (w) w(payload.toString());
      else texts.push(payload.toString());
    });
    let pending = Buffer.alloc(0);
    let handshake = true;
    socket.on('error', reject);
    socket.on('data', (d: Buffer) => {
      if (!handshake) return void read(d);
      pending = Buffer.concat([pending, d]);
      const end = pending.indexOf('\r\n\r\n');
      if (end < 0) return;
      handshake = false;
      const head = pending.subarray(0, end).toString('latin1');
      const rest = pending.subarray(end + 4);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      if (status === 101 && !head.includes(acceptKey(key)))
        return reject(new Error(`bad Sec-WebSocket-Accept in ${head}`));
      resolve({
        status,
        head,
        socket,
        send: (text) => socket.write(frame(TEXT, Buffer.from(text), true)),
        next: () =>
          new Promise((r) => {
            const t = texts.shift();
            if (t !== undefined) r(t);
            else waiters.push(r);
          }),
        close: () => socket.destroy(),
      });
      if (status === 101 && rest.length > 0) read(rest);
    });
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
        `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n\r\n`,
    );
  });
}
