// Replay buffer of one generation, bounded in bytes: what a late subscriber is sent before the live frames.
import type { BufferedFrame } from './frame.js';

export interface ReplaySnapshot {
  started: BufferedFrame | undefined;
  /** Kept frames after `started`, in seq order. */
  frames: BufferedFrame[];
  /** Frames after `started` that were dropped (the seq gaps), and how many of them were steps / tokens. */
  missed: number;
  missedSteps: number;
  missedTokens: number;
}

/** A FIFO of frames with O(1) push and drop-oldest. */
class Fifo {
  private items: BufferedFrame[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  push(f: BufferedFrame): void {
    this.items.push(f);
  }

  shift(): BufferedFrame | undefined {
    const f = this.items[this.head];
    if (f === undefined) return undefined;
    this.items[this.head++] = undefined as unknown as BufferedFrame; // let it go now
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return f;
  }

  toArray(): BufferedFrame[] {
    return this.items.slice(this.head);
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}

/**
 * At most `maxBytes` of serialised frames (the one representation kept: see frame.ts). When a push goes over,
 * frames are dropped in this order until it fits:
 * 1. `step` frames, oldest first — they are the large ones (hook summaries, attention; up to MAX_RETURNED_VALUES
 *    values with detail=full) and a late subscriber can live without past layer detail;
 * 2. `token` frames, oldest first, never the newest: every token frame carries the whole generated text so far,
 *    so the newest one alone rebuilds the text (in practice token frames are small and all are kept).
 * `started` (prompt, params, hooks: what a subscriber needs to render anything) and the final `done`/`error` are
 * never dropped; together with the newest token they are the only frames that may exceed the bound on their own.
 */
export class ReplayBuffer {
  private started: BufferedFrame | undefined;
  private readonly steps = new Fifo();
  private readonly tokens = new Fifo();
  private readonly others: BufferedFrame[] = [];
  private held = 0;
  private droppedSteps = 0;
  private droppedTokens = 0;
  private released = false;

  constructor(private readonly maxBytes: number) {}

  /** Bytes of frames currently kept. */
  get bytes(): number {
    return this.held;
  }

  push(f: BufferedFrame): void {
    if (this.released) return;
    this.held += f.bytes;
    if (f.type === 'started') this.started = f;
    else if (f.type === 'step') this.steps.push(f);
    else if (f.type === 'token') this.tokens.push(f);
    else this.others.push(f);
    while (this.held > this.maxBytes && this.steps.size > 0) {
      this.held -= (this.steps.shift() as BufferedFrame).bytes;
      this.droppedSteps++;
    }
    while (this.held > this.maxBytes && this.tokens.size > 1) {
      this.held -= (this.tokens.shift() as BufferedFrame).bytes;
      this.droppedTokens++;
    }
  }

  snapshot(): ReplaySnapshot {
    const frames = [...this.steps.toArray(), ...this.tokens.toArray(), ...this.others].sort((a, b) => a.seq - b.seq);
    const missed = this.droppedSteps + this.droppedTokens;
    return { started: this.started, frames, missed, missedSteps: this.droppedSteps, missedTokens: this.droppedTokens };
  }

  /** Drop everything (the generation's grace period ended); later pushes are ignored. */
  release(): void {
    this.released = true;
    this.started = undefined;
    this.steps.clear();
    this.tokens.clear();
    this.others.length = 0;
    this.held = 0;
  }
}
