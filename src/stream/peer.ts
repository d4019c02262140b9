// One WebSocket client as seen by generations: sends frames under the backpressure policy.
import type { WebSocket } from 'ws';
import { renderFrame, type BufferedFrame } from './frame.js';
import type { Generation } from './generation.js';

export type Role = 'owner' | 'subscriber';

export interface PeerLimits {
  /** WS_MAX_BUFFERED_BYTES: owners pause above it; subscribers skip `step` frames above it. */
  softBytes: number;
  /** Subscribers above this are disconnected (close 1013). */
  hardBytes: number;
}

/** Close code for a subscriber that reads too slowly ("try again later"). */
export const CLOSE_TOO_SLOW = 1013;

/**
 * Per client: its id namespace (the labels of the generations it owns or watches: a client's `id` is its own
 * label, meaningless on other connections), the frames it skipped per generation (to announce them), the
 * high-water mark of its send buffer (observable in tests and stats), and the send policy:
 * - owner: every frame is queued; its generation paces itself on waitDrained() before each forward pass;
 * - subscriber: `step` frames are skipped while the buffer is above softBytes (the next step it gets says how
 *   many); token/done/error are always queued; above hardBytes (+ one step frame) the client is disconnected,
 *   so one slow watcher can neither stall the generation nor grow server memory without bound.
 */
export class Peer {
  /** label -> generation this connection owns or watches (owners and subscribers share one namespace). */
  readonly labels = new Map<string, Generation>();
  private readonly pending = new Map<string, number>(); // skipped steps not yet announced, per label
  private readonly skippedTotal = new Map<string, number>();
  maxBuffered = 0;
  /** Largest step frame queued to this client: the backlog may legitimately include one. */
  private maxStepBytes = 0;

  constructor(
    readonly ws: WebSocket,
    readonly connectionId: number,
    private readonly limits: PeerLimits,
    /** Who this connection counts against for the per-client limits (its remote address). */
    readonly clientKey = '',
  ) {}

  get open(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }

  get buffered(): number {
    return this.ws.bufferedAmount;
  }

  /** A control frame (hello, error, subscribed...). */
  send(frame: Record<string, unknown>): void {
    this.sendRaw(JSON.stringify(frame));
  }

  private sendRaw(data: string | Buffer): void {
    if (!this.open) return;
    this.ws.send(data, { binary: false });
    if (this.ws.bufferedAmount > this.maxBuffered) this.maxBuffered = this.ws.bufferedAmount;
  }

  /** Deliver one generation frame, under this client's `label` for it, with the policy of `role`. */
  deliver(f: BufferedFrame, label: string, role: Role): void {
    if (!this.open) return;
    // Checked before queueing. A step frame is only queued below softBytes, so a backlog beyond
    // hardBytes + one step frame can only be must-deliver frames (token/done) piling up unread.
    if (role === 'subscriber' && this.buffered > this.limits.hardBytes + this.maxStepBytes) {
      this.dropTooSlow();
      return;
    }
    if (f.type === 'step') {
      if (role === 'subscriber' && this.buffered > this.limits.softBytes) {
        this.pending.set(label, (this.pending.get(label) ?? 0) + 1);
        this.skippedTotal.set(label, (this.skippedTotal.get(label) ?? 0) + 1);
        return;
      }
      const skipped = this.pending.get(label) ?? 0;
      this.pending.delete(label);
      if (f.bytes > this.maxStepBytes) this.maxStepBytes = f.bytes;
      this.sendRaw(renderFrame(f, label, { coalesced: skipped }));
    } else if (f.type === 'done') {
      const total = this.skippedTotal.get(label) ?? 0;
      this.pending.delete(label);
      this.skippedTotal.delete(label);
      this.sendRaw(renderFrame(f, label, { coalesced: total }));
    } else if (f.type === 'started') {
      this.sendRaw(renderFrame(f, label, { owner: role === 'owner' }));
    } else {
      this.sendRaw(renderFrame(f, label));
    }
  }

  /** Forget a label's coalescing state (unsubscribe, generation over). */
  forget(label: string): void {
    this.pending.delete(label);
    this.skippedTotal.delete(label);
  }

  private dropTooSlow(): void {
    this.ws.close(CLOSE_TOO_SLOW, 'reading too slowly');
    // The close frame waits behind the unread buffer; don't hold the memory for a peer that isn't reading.
    const t = setTimeout(() => this.ws.terminate(), 1000);
    t.unref();
  }
  /**
   * Resolve once the send buffer is at or below softBytes (or the socket closed / `stop()` says so);
   * returns the milliseconds waited. Polled: ws has no 'drain' event of its own, and a 5 ms poll only
   * runs while a client is actually behind.
   */
  async waitDrained(stop: () => boolean): Promise<number> {
    if (this.buffered <= this.limits.softBytes) return 0;
    const t0 = performance.now();
    while (this.open && this.buffered > this.limits.softBytes && !stop()) {
      await new Promise((r) => setTimeout(r, 5));
    }
    return performance.now() - t0;
  }
}
