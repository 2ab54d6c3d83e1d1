// A load loop for end-to-end tests: a few concurrent clients sending requests
// one after another (a new connection each, so every request also exercises
// the gateway's accept path) until stopped, counting every outcome.
import { httpGet } from './http.js';

export interface LoadResult {
  sent: number;
  ok: number;
  /** Every request that did not answer the expected status, with what happened. */
  failures: string[];
}

export interface LoadLoop {
  /** Requests answered so far. */
  readonly sent: () => number;
  stop: () => Promise<LoadResult>;
}

export function startLoad(
  port: number,
  path: string,
  host: string,
  opts: { concurrency?: number; expect?: number; address?: string } = {},
): LoadLoop {
  const expect = opts.expect ?? 200;
  const result: LoadResult = { sent: 0, ok: 0, failures: [] };
  let running = true;
  const client = async () => {
    while (running) {
      try {
        const r = await httpGet(port, path, host, {
          timeoutMs: 10_000,
          ...(opts.address ? { address: opts.address } : {}),
        });
        if (r.status === expect) result.ok++;
        else result.failures.push(`status ${r.status}: ${r.body.slice(0, 200)}`);
      } catch (e) {
        result.failures.push(String(e));
      }
      result.sent++;
    }
  };
  const clients = Array.from({ length: opts.concurrency ?? 4 }, client);
  return {
    sent: () => result.sent,
    stop: async () => {
      running = false;
      await Promise.all(clients);
      return result;
    },
  };
}
