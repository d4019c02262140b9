// Sampling: seeded RNG, greedy, temperature / top-k / top-p against the numpy reference, replay, stop strings.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SeededRng, splitmix64At, uniformAt } from '../../src/sampling/rng.js';
import { argmax, rankOf, softmax, topByValue } from '../../src/sampling/softmax.js';
import { topK, topP } from '../../src/sampling/filters.js';
import { replaySample, sampleNext } from '../../src/sampling/sample.js';
import { findStop, tokensBefore } from '../../src/sampling/stopping.js';

interface RefStep {
  id: number;
  candidates: number;
  prob: number;
  prob_filtered: number;
  draw: number | null;
}
interface Ref {
  splitmix64_seed_1234567: string[];
  uniform_seed_42: number[];
  logits: number[];
  cases: { temperature: number; top_k: number; top_p: number; seed: number; steps: RefStep[] }[];
}

const here = path.dirname(fileURLToPath(import.meta.url));
// Produced by test/sampling/reference_sampling.py (numpy), independent of the TypeScript code.
const ref = JSON.parse(readFileSync(path.join(here, 'fixtures/sampling-reference.json'), 'utf8')) as Ref;
const logits = Float32Array.from(ref.logits);

describe('SeededRng', () => {
  it('reproduces the published splitmix64 sequence and the reference uniforms', () => {
    expect([0, 1, 2].map((i) => splitmix64At(1234567, i).toString())).toEqual(ref.splitmix64_seed_1234567);
    expect([0, 1, 2].map((i) => uniformAt(42, i))).toEqual(ref.uniform_seed_42);
  });

  it('is a stream: next() equals uniformAt(seed, counter) and counts draws', () => {
    const rng = new SeededRng(7);
    const draws = [rng.next(), rng.next(), rng.next()];
    expect(rng.counter).toBe(3);
    expect(draws).toEqual([0, 1, 2].map((i) => uniformAt(7, i)));
    expect(new Set(draws).size).toBe(3);
  });

  it('rejects seeds that are not uint32', () => {
    expect(() => new SeededRng(-1)).toThrow(RangeError);
    expect(() => new SeededRng(2 ** 32)).toThrow(RangeError);
  });
});

describe('softmax, argmax, rank, top', () => {
  it('softmax sums to 1 and matches a hand-computed case', () => {
    const p = softmax([0, Math.log(2), Math.log(3)]);
    expect([...p].map((x) => +x.toFixed(12))).toEqual([1 / 6, 2 / 6, 3 / 6].map((x) => +x.toFixed(12)));
    expect(softmax([1000, 1000])[0]).toBe(0.5); // max-subtracted: no overflow
  });

  it('argmax breaks ties towards the lower id; rank counts better tokens', () => {
    expect(argmax([1, 3, 3, 2])).toBe(1);
    expect(rankOf([1, 3, 3, 2], 2)).toBe(1);
    expect(rankOf([1, 3, 3, 2], 0)).toBe(3);
  });

  it('topByValue equals a full sort', () => {
    const full = [...logits.keys()].sort((a, b) => (logits[b] as number) - (logits[a] as number) || a - b);
    expect(topByValue(logits, 37)).toEqual(full.slice(0, 37));
    expect(topByValue([2, 5, 5, 1], 2)).toEqual([1, 2]);
  });
});

describe('filters', () => {
  it('top-k keeps the k most probable, top-p the shortest prefix reaching p', () => {
    const p = Float64Array.from([0.1, 0.4, 0.2, 0.3]);
    expect(topK(p, 2)).toEqual([1, 3]);
    expect(topP(p, 0.7)).toEqual([1, 3]);
    expect(topP(p, 0.71)).toEqual([1, 3, 2]);
    expect(topP(p, 0.05)).toEqual([1]);
    expect(topP(p, 0.5, [3, 2])).toEqual([3, 2]);
  });

  it('top-p without top-k finds the nucleus even when it needs tiny probabilities', () => {
    const p = new Float64Array(5000).fill(0.5 / 4999);
    p[0] = 0.5;
    expect(topP(p, 0.9).length).toBe(1 + Math.ceil((0.4 / 0.5) * 4999 - 1e-9));
  });
});

describe('sampleNext against the numpy reference', () => {
  for (const c of ref.cases) {
    it(`T=${c.temperature} top_k=${c.top_k} top_p=${c.top_p} seed=${c.seed}`, () => {
      const rng = new SeededRng(c.seed);
      const params = { temperature: c.temperature, topK: c.top_k, topP: c.top_p };
      for (const want of c.steps) {
        const { tokenId, record } = sampleNext(logits, params, rng);
        expect(tokenId).toBe(want.id);
        expect(record.candidates).toBe(want.candidates);
        expect(record.prob).toBeCloseTo(want.prob, 9);
        expect(record.prob_filtered).toBeCloseTo(want.prob_filtered, 9);
        expect(record.draw).toBe(want.draw);
      }
    });
  }
});

describe('greedy and replay', () => {
  it('top_k 1 equals argmax whatever the temperature, and consumes no draw', () => {
    const rng = new SeededRng(3);
    for (const temperature of [0.5, 1, 5]) {
      const r = sampleNext(logits, { temperature, topK: 1, topP: 1 }, rng);
      expect(r.tokenId).toBe(argmax(logits));
      expect(r.record).toMatchObject({ greedy: true, rank: 0, draw: null, candidates: 1 });
    }
    expect(rng.counter).toBe(0);
  });

  it('temperature 0 is greedy', () => {
    const r = sampleNext(logits, { temperature: 0, topK: 0, topP: 0.3 }, new SeededRng(9));
    expect(r.tokenId).toBe(argmax(logits));
    expect(r.record.prob_tempered).toBe(1);
  });

  it('the record replays each step exactly, in any order', () => {
    const rng = new SeededRng(1234);
    const params = { temperature: 1.1, topK: 0, topP: 0.95 };
    const steps = Array.from({ length: 30 }, () => sampleNext(logits, params, rng));
    for (const s of [...steps].reverse()) expect(replaySample(logits, s.record)).toBe(s.tokenId);
    expect(new Set(steps.map((s) => s.tokenId)).size).toBeGreaterThan(3);
  });

  it('same seed -> same tokens; different seed -> different tokens', () => {
    const run = (seed: number) => {
      const rng = new SeededRng(seed);
      return Array.from({ length: 20 }, () => sampleNext(logits, { temperature: 1, topK: 0, topP: 1 }, rng).tokenId);
    };
    expect(run(5)).toEqual(run(5));
    expect(run(5)).not.toEqual(run(6));
  });

  it('draw frequencies follow the distribution (fixed seed, 20k draws, within 4 sigma)', () => {
    const l = [Math.log(0.5), Math.log(0.3), Math.log(0.15), Math.log(0.05)];
    const rng = new SeededRng(2024);
    const counts = [0, 0, 0, 0];
    const n = 20_000;
    for (let i = 0; i < n; i++) counts[sampleNext(l, { temperature: 1, topK: 0, topP: 1 }, rng).tokenId]! += 1;
    [0.5, 0.3, 0.15, 0.05].forEach((p, i) => {
      expect(Math.abs((counts[i] as number) / n - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / n));
    });
  });
});

describe('stop strings', () => {
  it('finds the earliest match and trims before it', () => {
    expect(findStop(' Paris. It is', ['.', ' It'])).toEqual({ stop: '.', index: 6 });
    expect(findStop('abc', ['x'])).toBeNull();
    expect(findStop('a\n\nb', ['\n', '\n\n'])).toEqual({ stop: '\n\n', index: 1 });
  });

  it('keeps only tokens entirely before the cut', () => {
    expect(tokensBefore([' Paris', '.', ' It'], 6)).toBe(1);
    expect(tokensBefore([' Par', 'is.', ' It'], 6)).toBe(1);
    expect(tokensBefore([' Paris', '.'], 7)).toBe(2);
  });
});
