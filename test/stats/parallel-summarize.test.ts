// summarizeInParallel gives summarizeTensors' results, hands back every tensor with its values, and moves only
// tensors that own their whole buffer (not shared, not kept, not a view).
import { describe, expect, it } from 'vitest';
import { PARALLEL_MIN_VALUES, summarizeInParallel } from '../../src/stats/parallel-summarize.js';
import { summarizeTensors } from '../../src/stats/summarize.js';
import { mulberry32 } from '../../tools/checkpoint/make-random.js';

function tensor(next: () => number, n: number): Float32Array {
  const t = new Float32Array(n);
  for (let i = 0; i < n; i++) t[i] = next() < 0.001 ? NaN : (next() - 0.5) * 8;
  return t;
}

describe('summarizeInParallel', () => {
  it('equals summarizeTensors and returns every tensor with the same values, in order', async () => {
    const next = mulberry32(3);
    const sizes = [PARALLEL_MIN_VALUES / 2, 300_000, 5, 120_000, 70_000, 1, 0, 200_001];
    const tensors = sizes.map((n) => tensor(next, n));
    const copies = tensors.map((t) => t.slice());
    const want = summarizeTensors(copies, 64);
    const before = [...tensors];
    const got = await summarizeInParallel(tensors, 64);
    expect(got).toEqual(want);
    expect(tensors.map((t) => Array.from(t))).toEqual(copies.map((t) => Array.from(t)));
    // Some went to the helper and came back in new views (the old ones are detached), some stayed.
    const moved = before.filter((t, j) => tensors[j] !== t);
    expect(moved.length).toBeGreaterThan(0);
    expect(moved.length).toBeLessThan(tensors.length);
    for (const t of moved) expect(t.length).toBe(0);
  });

  it('keeps kept buffers, shared buffers and views in this thread', async () => {
    const next = mulberry32(4);
    const shared = tensor(next, 2 * PARALLEL_MIN_VALUES);
    const kept = tensor(next, PARALLEL_MIN_VALUES);
    const view = tensor(next, PARALLEL_MIN_VALUES + 8).subarray(8);
    const tensors = [shared.subarray(0, PARALLEL_MIN_VALUES), shared.subarray(PARALLEL_MIN_VALUES), kept, view];
    const before = [...tensors];
    const want = summarizeTensors(
      tensors.map((t) => t.slice()),
      16,
    );
    expect(await summarizeInParallel(tensors, 16, new Set([kept.buffer]))).toEqual(want);
    expect(tensors).toEqual(before);
    tensors.forEach((t, j) => expect(t).toBe(before[j]));
  });

  it('summarises small lists in this thread', async () => {
    const t = [tensor(mulberry32(5), 1000)];
    const before = t[0];
    expect(await summarizeInParallel(t, 8)).toEqual(summarizeTensors([before], 8));
    expect(t[0]).toBe(before);
  });
});
