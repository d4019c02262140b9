// Stream building blocks without a server: replay buffer, forward gate, the per-client send policy.
import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { encodeFrame, renderFrame, type BufferedFrame } from '../../src/stream/frame.js';
import { ReplayBuffer } from '../../src/stream/replay-buffer.js';
import { ForwardGate } from '../../src/stream/forward-gate.js';
import { CLOSE_TOO_SLOW, Peer } from '../../src/stream/peer.js';

const frame = (seq: number, type = 'token', pad = 0): BufferedFrame => encodeFrame(type, seq, { pad: 'x'.repeat(pad) });
const seqs = (b: ReplayBuffer) => b.snapshot().frames.map((f) => f.seq);

describe('frames', () => {
  it('serialise once and render per client with its own label and header fields', () => {
    const f = encodeFrame('step', 3, { step: 1, text: 'é' });
    expect(f.bytes).toBe(Buffer.byteLength('"step":1,"text":"é"}'));
    expect(JSON.parse(String(renderFrame(f, 'mine', { coalesced: 2 })))).toEqual({
      type: 'step',
      id: 'mine',
      seq: 3,
      coalesced: 2,
      step: 1,
      text: 'é',
    });
    expect(JSON.parse(String(renderFrame(encodeFrame('done', 0, {}), 'a"b')))).toEqual({
      type: 'done',
      id: 'a"b',
      seq: 0,
    });
  });
});

describe('ReplayBuffer', () => {
  it('stays within its byte bound by dropping step frames first, oldest first, and says how many', () => {
    const b = new ReplayBuffer(1000);
    b.push(frame(0, 'started', 50));
    for (let s = 1; s <= 20; s += 2) {
      b.push(frame(s, 'step', 200));
      b.push(frame(s + 1, 'token', 20));
      expect(b.bytes).toBeLessThanOrEqual(1000);
    }
    const snap = b.snapshot();
    expect(snap.started?.seq).toBe(0);
    expect(snap.frames.filter((f) => f.type === 'token')).toHaveLength(10); // every token kept
    const steps = snap.frames.filter((f) => f.type === 'step').map((f) => f.seq);
    expect(steps).toEqual([15, 17, 19]); // the newest steps that fit
    expect(snap).toMatchObject({ missed: 7, missedSteps: 7, missedTokens: 0 });
    expect(seqs(b)).toEqual([...seqs(b)].sort((x, y) => x - y));
  });

  it('drops old tokens only when tokens alone overflow, never the newest one, started or done', () => {
    const b = new ReplayBuffer(100);
    b.push(frame(0, 'started', 150));
    for (let s = 1; s <= 5; s++) b.push(frame(s, 'token', 30));
    b.push(frame(6, 'done', 10));
    const snap = b.snapshot();
    expect(snap.started?.seq).toBe(0);
    expect(seqs(b)).toEqual([5, 6]);
    expect(snap).toMatchObject({ missed: 4, missedSteps: 0, missedTokens: 4 });
  });

  it('release() lets everything go', () => {
    const b = new ReplayBuffer(10_000);
    b.push(frame(0, 'started', 10));
    b.push(frame(1, 'step', 100));
    expect(b.bytes).toBeGreaterThan(100);
    b.release();
    b.push(frame(2, 'token', 10));
    expect(b.bytes).toBe(0);
    expect(b.snapshot()).toMatchObject({ started: undefined, frames: [] });
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
    send: (d: string | Buffer) => sent.push(String(d)),
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
