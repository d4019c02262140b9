// A per-model concurrency gate for onnxruntime calls: at most `limit` runs in flight, FIFO for the rest.
// FIFO matters: every generation re-queues after each step, so concurrent streams interleave token by token
// instead of one generation monopolising the session (see "Scheduling" in docs/stream-protocol.md).

export class ForwardGate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('limit must be a positive integer');
  }

  /** Runs in flight and queued, for stats. */
  get load(): { active: number; queued: number } {
    return { active: this.active, queued: this.waiting.length };
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await task();
    } finally {
      // Hand the slot straight to the next waiter (active stays the same) or release it.
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}
