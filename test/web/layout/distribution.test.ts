import { describe, expect, it } from 'vitest';
import { candidatesOf } from '../../../src/sampling/sample.js';
import { softmax } from '../../../src/sampling/softmax.js';
import { candidates, rankIds, reshape, softmaxT } from '../../../web/src/layout/distribution.js';

// A deterministic pseudo-random row of logits (no ties).
function logitsRow(n: number, seed: number): Float32Array {
  let x = seed;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    out[i] = (x / 2147483648) * 12 - 6 + i * 1e-6;
  }
  return out;
}

describe('page-side sampling distribution', () => {
  it('keeps the same candidates as the server sampler for temperature, top-k and top-p', () => {
    const cases = [
      { temperature: 0.7, topK: 0, topP: 0.9 },
      { temperature: 1.3, topK: 40, topP: 0.5 },
      { temperature: 1, topK: 5, topP: 1 },
      { temperature: 2, topK: 0, topP: 1 },
    ];
    for (const [i, p] of cases.entries()) {
      const logits = logitsRow(3000, 7 + i);
      const serverTempered = softmax(logits, p.temperature);
      const server = candidatesOf(serverTempered, p);
      const tempered = softmaxT(logits, p.temperature);
      const order = rankIds(softmaxT(logits, 1));
      expect(candidates(tempered, order, p.topK, p.topP)).toEqual(server);
      for (const id of server.slice(0, 5)) expect(tempered[id]).toBeCloseTo(serverTempered[id] as number, 12);
      expect(reshape(logits, p).keptCount).toBe(server.length);
    }
  });

  it('greedy draws the argmax with probability 1; filters renormalise the kept mass', () => {
    const logits = [2, 1, 0, -1];
    const g = reshape(logits, { temperature: 0, topK: 0, topP: 1 }, 4);
    expect(g.greedy).toBe(true);
    expect(g.top.map((c) => c.drawn)).toEqual([1, 0, 0, 0]);
    expect(g.entropyDrawn).toBe(0);
    const k2 = reshape(logits, { temperature: 1, topK: 2, topP: 1 }, 4);
    const e = logits.map(Math.exp);
    expect(k2.top[0].drawn).toBeCloseTo(e[0] / (e[0] + e[1]), 12);
    expect(k2.top[2].kept).toBe(false);
    // Entropy in bits of a 2-way split.
    const q = e[0] / (e[0] + e[1]);
    expect(k2.entropyDrawn).toBeCloseTo(-(q * Math.log2(q) + (1 - q) * Math.log2(1 - q)), 12);
    const sum = e.reduce((a, b) => a + b, 0);
    expect(k2.entropyRaw).toBeCloseTo(-e.reduce((a, v) => a + (v / sum) * Math.log2(v / sum), 0), 12);
  });
});
