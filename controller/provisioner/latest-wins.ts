// Serialises an async job whose newest input supersedes older ones: one run
// at a time; calls that arrive while a run is in progress share a single
// further run with the newest input, and all of them get its result (or its
// error). Inputs that were superseded before their turn are never run.

interface Waiter<R> {
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

export class LatestWins<A, R> {
  private pending?: { input: A; waiters: Waiter<R>[] };
  private running = false;

  constructor(private readonly job: (input: A) => Promise<R>) {}

  run(input: A): Promise<R> {
    return new Promise((resolve, reject) => {
      if (this.pending) {
        this.pending.input = input;
        this.pending.waiters.push({ resolve, reject });
      } else {
        this.pending = { input, waiters: [{ resolve, reject }] };
      }
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.pending) {
        const batch = this.pending;
        this.pending = undefined;
        try {
          const result = await this.job(batch.input);
          for (const w of batch.waiters) w.resolve(result);
        } catch (e) {
          for (const w of batch.waiters) w.reject(e);
        }
      }
    } finally {
      this.running = false;
    }
  }
}
