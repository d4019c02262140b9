// The one decode step: forward -> summaries -> next-token row, with the cache; and the one stop rule.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastRow, step } from '../../src/decode/step.js';
import { loadModelRuntime } from '../../src/runtime/load.js';
import type { ModelRuntime } from '../../src/runtime/types.js';
import { stopAfter } from '../../src/sampling/stopping.js';
import { maxAbsDiff, TINY } from '../runtime/reference.js';

const PROMPT = [464, 3139, 286, 4881, 318]; // "The capital of France is"
let rt: ModelRuntime;
beforeAll(async () => {
  rt = await loadModelRuntime(TINY, { name: 'tiny', threads: 1 });
});
afterAll(() => rt?.dispose());

describe('step', () => {
  it('prefill then one decode step gives the row of a full forward over all tokens, summaries at the new position', async () => {
    const hook = 'blocks.0.hook_resid_post';
    const summarize = (positions: number[]) => ({
      hooks: [hook],
      positions,
      detail: 'summary' as const,
      topK: 3,
      logitLens: false,
    });
    const pre = await step(rt, { tokenIds: PROMPT, fetch: [hook], summarize: summarize([PROMPT.length - 1]) });
    expect(pre.row.length).toBe(rt.dims.dVocab);
    expect(pre.summary?.hooks[0]?.hook).toBe(hook);
    const next = 11;
    const dec = await step(rt, {
      tokenIds: [next],
      past: pre.result.present,
      fetch: [hook],
      summarize: summarize([PROMPT.length]),
    });
    expect(dec.result.present.length).toBe(PROMPT.length + 1);
    const full = await rt.forward({ tokenIds: [...PROMPT, next], hooks: [hook] });
    expect(maxAbsDiff(dec.row, lastRow(full, rt.dims.dVocab))).toBeLessThan(1e-4);
    // the decode step's summary covers its one new position, named absolutely
    expect(dec.summary?.hooks[0]?.positions).toEqual([PROMPT.length]);
    expect(dec.summary?.top_k).toHaveLength(3);
    const noSummary = await step(rt, { tokenIds: [next], past: pre.result.present, fetch: [] });
    expect(noSummary.summary).toBeNull();
    expect(maxAbsDiff(noSummary.row, dec.row)).toBe(0);
  });
});

describe('stopAfter', () => {
  const rules = { maxNewTokens: 3, stopAtEos: true, eosId: 7, stop: ['.'] };
  it('end-of-text first, then a stop string, then the length', () => {
    expect(stopAfter(rules, 7, 3, 'a.')).toBe('eos');
    expect(stopAfter(rules, 1, 3, 'a.')).toBe('stop');
    expect(stopAfter(rules, 1, 3, 'ab')).toBe('length');
    expect(stopAfter(rules, 1, 2, 'ab')).toBeNull();
  });
  it('no end-of-text id or stop_at_eos off: only the length stops', () => {
    expect(stopAfter({ ...rules, eosId: null }, 7, 1)).toBeNull();
    expect(stopAfter({ ...rules, stopAtEos: false }, 7, 1)).toBeNull();
  });
});
