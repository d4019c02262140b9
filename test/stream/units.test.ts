// Stream building blocks without a server: replay buffer, forward gate, the per-client send policy.
import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { ReplayBuffer, type BufferedFrame } from '../../src/stream/replay-buffer.js';
import { ForwardGate } from '../../src/stream/forward-gate.js';
import { CLOSE_TOO_SLOW, Peer } from '../../src/stream/peer.js';

const frame = (seq: number, type = 'token'): BufferedFrame => {
  const f = { type, id: 'g', seq, coalesced: 0, owner: true };
  return { seq, type, frame: f, json: JSON.stringify(f) };
};

describe('ReplayBuffer', () => {
  it('keeps started plus the last N frames and counts what fell out', () => {
    const b = new ReplayBuffer(3);
    b.push(frame(0, 'started'));
    for (let s = 1; s <= 5; s++) b.push(frame(s));
    const snap = b.snapshot();
    expect(snap.started?.seq).toBe(0);
    expect(snap.frames.map((f) => f.seq)).toEqual([3, 4, 5]);
    expect(snap.missed).toBe(2);
  });

  it('capacity 0 replays only started', () => {
    const b = new ReplayBuffer(0);
    b.push(frame(0, 'started'));
    b.push(frame(1));
    expect(b.snapshot()).toMatchObject({ frames: [], missed: 1 });
  });
});

describe('ForwardGate', () => {
  it('never runs more than `limit` tasks at once and serves waiters in FIFO order', async () => {
    const gate = new ForwardGate(2);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const task = (i: number) =>
      gate.run(async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 5));
        order.push(i);
        running--;
        return i;
      });
    expect(await Promise.all([0, 1, 2, 3, 4].map(task))).toEqual([0, 1, 2, 3, 4]);
    expect(peak).toBe(2);
    expect(order.slice(2)).toEqual([2, 3, 4]);
    expect(gate.load).toEqual({ active: 0, queued: 0 });
  });

  it('releases its slot when a task throws', async () => {
    const gate = new ForwardGate(1);
    await expect(gate.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await gate.run(async () => 7)).toBe(7);
  });
});

/** A socket stand-in whose send buffer the test controls. */
function fakeSocket() {
  const sent: string[] = [];
  const s = {
    OPEN: 1,
    readyState: 1,
    bufferedAmount: 0,
    closedWith: undefined as number | undefined,
    send: (d: string) => sent.push(d),
    close: (code: number) => {
      s.closedWith = code;
      s.readyState = 2;
    },
    terminate: () => undefined,
  };
  return { s, sent, ws: s as unknown as WebSocket };
}

describe('Peer send policy', () => {
  const limits = { softBytes: 100, hardBytes: 400 };

  it('an owner gets every frame whatever its buffer', () => {
    const { s, sent, ws } = fakeSocket();
    const p = new Peer(ws, 1, limits);
    s.bufferedAmount = 350;
    p.deliver(frame(1, 'step'), 'g', 'owner');
    p.deliver(frame(2, 'token'), 'g', 'owner');
    expect(sent).toHaveLength(2);
    expect(p.maxBuffered).toBe(350);
  });

  it('a slow subscriber skips steps, never tokens or done, and is told how many it missed', () => {
    const { s, sent, ws } = fakeSocket();
    const p = new Peer(ws, 1, limits);
    s.bufferedAmount = 150;
    p.deliver(frame(1, 'step'), 'g', 'subscriber');
    p.deliver(frame(2, 'token'), 'g', 'subscriber');
    p.deliver(frame(3, 'step'), 'g', 'subscriber');
    s.bufferedAmount = 0;
    p.deliver(frame(4, 'token'), 'g', 'subscriber');
    p.deliver(frame(5, 'step'), 'g', 'subscriber');
    p.deliver(frame(6, 'done'), 'g', 'subscriber');
    const got = sent.map((j) => JSON.parse(j) as { seq: number; coalesced: number });
    expect(got.map((f) => f.seq)).toEqual([2, 4, 5, 6]);
    expect(got[2]!.coalesced).toBe(2);
    expect(got[3]!.coalesced).toBe(2);
  });

  it('a subscriber sees started with owner=false', () => {
    const { sent, ws } = fakeSocket();
    new Peer(ws, 1, limits).deliver(frame(0, 'started'), 'g', 'subscriber');
    expect(JSON.parse(sent[0]!)).toMatchObject({ owner: false });
  });

  it('a subscriber past the hard limit is closed with 1013', () => {
    const { s, ws } = fakeSocket();
    const p = new Peer(ws, 1, limits);
    s.bufferedAmount = 399;
    p.deliver(frame(1, 'token'), 'g', 'subscriber');
    expect(s.closedWith).toBeUndefined();
    s.bufferedAmount = 401;
    p.deliver(frame(2, 'token'), 'g', 'subscriber');
    expect(s.closedWith).toBe(CLOSE_TOO_SLOW);
  });

  it('waitDrained returns at once under the limit and waits while above it', async () => {
    const { s, ws } = fakeSocket();
    const p = new Peer(ws, 1, limits);
    expect(await p.waitDrained(() => false)).toBe(0);
    s.bufferedAmount = 1000;
    setTimeout(() => (s.bufferedAmount = 0), 30);
    expect(await p.waitDrained(() => false)).toBeGreaterThan(0);
    s.bufferedAmount = 1000;
    expect(await p.waitDrained(() => true)).toBeGreaterThanOrEqual(0); // a cancelled generation stops waiting
  });
});
