// A token bucket: `burst` requests at once, then `qps` a second on average.
// The status writer takes one token per API request (PATCH or re-read), so a
// controller that suddenly has thousands of statuses to write cannot flood
// the API server beyond its configured share.

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly qps: number,
    readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(qps > 0) || !(burst >= 1))
      throw new Error(`invalid rate limit: qps ${qps}, burst ${burst}`);
    this.tokens = burst;
    this.last = now();
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) * this.qps) / 1000);
    this.last = t;
  }

  /** Takes a token if one is there (returns 0); otherwise takes nothing and returns the ms until one is. */
  tryTake(): number {
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.qps));
  }

  /** Waits for a token and takes it. */
  async take(): Promise<void> {
    for (;;) {
      const wait = this.tryTake();
      if (wait === 0) return;
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}
