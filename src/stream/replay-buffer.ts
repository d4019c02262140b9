// Bounded replay buffer of one generation: the `started` frame plus the last N frames after it.

export interface BufferedFrame {
  seq: number;
  type: string;
  /** The frame object (kept so a per-client variant, e.g. a coalesced step, can be re-serialised). */
  frame: Record<string, unknown>;
  /** Serialised once, shared by every client. */
  json: string;
}

/**
 * Late subscribers need `started` (prompt, params, hooks) whatever happened since, so it is kept apart;
 * the rest is a ring of the most recent `capacity` frames. Memory per generation is therefore bounded
 * by capacity frames, whatever the generation length.
 */
export class ReplayBuffer {
  private started: BufferedFrame | undefined;
  private ring: (BufferedFrame | undefined)[];
  private head = 0; // index of the oldest frame in the ring
  private size = 0;
  private pushed = 0; // frames after `started` ever pushed

  constructor(private readonly capacity: number) {
    this.ring = new Array<BufferedFrame | undefined>(Math.max(0, capacity));
  }

  push(f: BufferedFrame): void {
    if (f.type === 'started') {
      this.started = f;
      return;
    }
    this.pushed++;
    if (this.capacity === 0) return;
    if (this.size < this.capacity) {
      this.ring[(this.head + this.size) % this.capacity] = f;
      this.size++;
    } else {
      this.ring[this.head] = f;
      this.head = (this.head + 1) % this.capacity;
    }
  }

  /** started (if any) then the kept frames in seq order, and how many frames after `started` were dropped. */
  snapshot(): { started: BufferedFrame | undefined; frames: BufferedFrame[]; missed: number } {
    const frames: BufferedFrame[] = [];
    for (let i = 0; i < this.size; i++) frames.push(this.ring[(this.head + i) % this.capacity] as BufferedFrame);
    return { started: this.started, frames, missed: this.pushed - this.size };
  }
}
