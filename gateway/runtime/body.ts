// A request body on its way upstream. It is read from the client once and
// never held whole: each chunk goes to the attempt in progress (whose
// back-pressure pauses the client), to the mirrors (which never pause the
// client: one that falls MIRROR_BACKLOG_LIMIT behind is dropped), and into
// the replay buffer while the body stays within RETRY_BODY_LIMIT (beyond it
// the request cannot be retried, as with Envoy's per-request buffer limit).
// Chunks are counted against the body limit: going over it ends the
// exchange with 413 (the Content-Length check happens before forwarding;
// this catches chunked and HTTP/2 bodies).
//
// The client's request stream is never given to undici itself: undici
// destroys the body of a failed request, and destroying an unfinished
// IncomingMessage destroys the client's socket, which would leave no way to
// answer 413, 502 or 504.
import { Readable } from 'node:stream';
import type { DownstreamRequest } from './forward.js';

/** Bodies up to this size are kept so a retry can send them again. */
export const RETRY_BODY_LIMIT = 64 * 1024;
/** A mirror this many bytes behind the client is dropped. */
export const MIRROR_BACKLOG_LIMIT = 1024 * 1024;
const SINK_HIGH_WATER_MARK = 64 * 1024;

export interface BodyOwner {
  /** The client has sent the whole body. */
  onBodyComplete(): void;
  /** The body went over the limit; reading has stopped. */
  onBodyLimit(): void;
}

/** What undici reads one attempt's (or one mirror's) body from. */
class Sink extends Readable {
  constructor(private readonly source: RequestBody | null) {
    super({ highWaterMark: SINK_HIGH_WATER_MARK });
  }

  override _read(): void {
    this.source?.resumeSource();
  }
}

export class RequestBody {
  /** Bytes received from the client so far. */
  bytes = 0;
  ended = false;
  private kept: Buffer[] | null;
  private keptBytes = 0;
  private sink: Sink | null = null;
  private readonly mirrors: Sink[] = [];
  private reading = false;
  private stopped = false;

  constructor(
    private readonly req: DownstreamRequest,
    private readonly owner: BodyOwner,
    private readonly limit: number,
    keepForRetry: boolean,
  ) {
    this.kept = keepForRetry ? [] : null;
  }

  /** A body stream for a mirror. Call before the first attempt's stream(). */
  tee(): Readable {
    const m = new Sink(null);
    this.mirrors.push(m);
    return m;
  }

  /** The first attempt's body: the client's bytes as they arrive. */
  stream(): Readable {
    const s = new Sink(this);
    this.sink = s;
    if (!this.reading) {
      this.reading = true;
      this.req.on('data', this.onData);
      this.req.once('end', this.onEnd);
      this.req.once('error', this.onError);
    }
    return s;
  }

  /** Whether a retry can send the body again (it is small enough to have been kept). */
  replayable(): boolean {
    return this.kept !== null;
  }

  /** The whole body, for a retry: only once `ended` and while `replayable()`. */
  replay(): Buffer {
    return this.kept!.length === 1 ? this.kept![0]! : Buffer.concat(this.kept!, this.keptBytes);
  }

  /** The attempt reading the stream is gone: keep reading, to keep the body for a retry. */
  detach(): void {
    this.sink = null;
    if (!this.ended && !this.stopped) this.req.resume();
  }

  /**
   * The exchange is over: stops reading and drops the attempt's stream.
   * Mirrors that have the whole body go on sending it; those that would
   * wait for more are dropped.
   */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.req.off('data', this.onData);
    this.req.off('end', this.onEnd);
    this.req.off('error', this.onError);
    this.sink?.destroy();
    this.sink = null;
    if (!this.ended) for (const m of this.mirrors) m.destroy();
    this.kept = null;
  }

  /** Called by the attempt's stream when it wants more. */
  resumeSource(): void {
    if (!this.stopped) this.req.resume();
  }

  private readonly onData = (chunk: Buffer): void => {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) {
      this.stop();
      this.owner.onBodyLimit();
      return;
    }
    if (this.kept !== null) {
      this.keptBytes += chunk.length;
      if (this.keptBytes > RETRY_BODY_LIMIT) this.kept = null;
      else this.kept.push(chunk);
    }
    for (const m of this.mirrors) {
      if (m.destroyed) continue;
      if (m.readableLength > MIRROR_BACKLOG_LIMIT) m.destroy();
      else m.push(chunk);
    }
    const s = this.sink;
    if (s !== null && !s.destroyed && !s.push(chunk)) this.req.pause();
  };

  private readonly onEnd = (): void => {
    this.ended = true;
    this.req.off('data', this.onData);
    this.req.off('error', this.onError);
    if (this.sink !== null && !this.sink.destroyed) this.sink.push(null);
    for (const m of this.mirrors) if (!m.destroyed) m.push(null);
    this.owner.onBodyComplete();
  };

  private readonly onError = (err: Error): void => {
    this.stopped = true;
    this.req.off('data', this.onData);
    this.req.off('end', this.onEnd);
    this.sink?.destroy(err);
    for (const m of this.mirrors) m.destroy(err);
  };
}
