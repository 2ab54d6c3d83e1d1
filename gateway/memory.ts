// Returns the memory a large configuration update leaves behind.
//
// Applying a big update allocates several times the configuration it keeps:
// the decoded response, every resource decoded, validated and compiled. V8
// collects that garbage lazily and, once the gateway is idle again, sees no
// allocation pressure to do it at all: measured with 5,000 routes, 50 MB
// live kept an RSS of 214 MB for as long as the gateway stayed idle, and a
// later burst of traffic grew it further because the old generation's limit
// had been set from the inflated heap. One full collection shortly after a
// burst of large updates brings the heap back to what is live.
//
// The collection pauses the process (tens of ms for a 5,000-route
// configuration), so it runs only after updates that together carried at
// least `thresholdBytes`, once per burst (debounced), never per request.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface MemoryReclaimerOptions {
  /** Resource bytes applied since the last collection that make one worthwhile. */
  thresholdBytes?: number;
  /** Quiet time after the last large update before collecting (a push is several responses). */
  debounceMs?: number;
}

type Collect = () => void;

let collect: Collect | undefined;

/** V8's full collection, exposed at run time (the same as starting node with --expose-gc). */
function fullCollection(): Collect {
  if (!collect) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as Collect;
  }
  return collect;
}

export class MemoryReclaimer {
  private pending = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Collections run so far (for /stats and tests). */
  collections = 0;

  constructor(private readonly opts: MemoryReclaimerOptions = {}) {}

  /** Called after each applied update with the size of the resources it carried. */
  noteApplied(bytes: number): void {
    this.pending += bytes;
    if (this.pending < (this.opts.thresholdBytes ?? 2 * 1024 * 1024)) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.run(), this.opts.debounceMs ?? 500);
    this.timer.unref();
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  private run(): void {
    this.pending = 0;
    this.collections++;
    fullCollection()();
  }
}
