import { describe, expect, it } from 'vitest';
import type { ServerMessage, StartedMessage, StepMessage, TokenMessage } from '../../src/schemas/stream.js';
import { applyMessage, attentionRows, newRun, shownIndex, stepFor, tokenTexts } from '../../web/src/run-state.js';

const started = {
  type: 'started',
  id: 'g',
  seq: 0,
  model: 'm',
  owner: true,
  prompt_tokens: [
    { id: 1, text: 'A', position: 0 },
    { id: 2, text: ' b', position: 1 },
  ],
  dims: { n_layer: 1, n_head: 2, d_model: 4, d_head: 2, d_mlp: 16, d_vocab: 10, n_ctx: 8 },
} as unknown as StartedMessage;

function step(n: number, positions: number[], rows: number[][][]): StepMessage {
  return {
    type: 'step',
    id: 'g',
    seq: 1 + 2 * n,
    step: n,
    phase: n === 0 ? 'prefill' : 'decode',
    positions,
    cache_length: positions.at(-1)! + 1,
    hooks: [],
    attention: [
      {
        layer: 0,
        hook: 'blocks.0.attn.hook_pattern',
        query_positions: positions,
        heads: rows.map((r, head) => ({ head, rows: r })),
      },
    ],
  } as unknown as StepMessage;
}

function token(index: number, position: number, text: string): TokenMessage {
  return {
    type: 'token',
    id: 'g',
    seq: 2 + 2 * index,
    index,
    position,
    token: { id: 100 + index, text },
  } as unknown as TokenMessage;
}

describe('run state', () => {
  it('ignores frames of other generations and tracks the phase', () => {
    const s = newRun('g');
    applyMessage(s, { ...started, id: 'other' } as ServerMessage);
    expect(s.started).toBeNull();
    applyMessage(s, started);
    expect(s.phase).toBe('running');
    applyMessage(s, { type: 'error', id: 'g', code: 'unknown_model', message: 'No model.' } as ServerMessage);
    expect(s.phase).toBe('error');
    expect(s.error).toEqual({ code: 'unknown_model', message: 'No model.' });
  });

  it('follows the newest token until one is pinned; token i is shown with step i', () => {
    const s = newRun('g');
    for (const m of [
      started,
      step(
        0,
        [0, 1],
        [
          [[1], [0.25, 0.75]],
          [[1], [0.5, 0.5]],
        ],
      ),
      token(0, 2, ' c'),
      step(1, [2], [[[0.2, 0.3, 0.5]], [[0.1, 0.1, 0.8]]]),
      token(1, 3, ' d'),
    ]) {
      applyMessage(s, m as ServerMessage);
    }
    expect(shownIndex(s)).toBe(1);
    expect(stepFor(s, 1)?.step).toBe(1);
    // Once done, the page lands on the first generated token (the answer), not the newest one.
    s.done = { type: 'done', id: 'g', reason: 'eos', tokens: 2 } as unknown as typeof s.done;
    expect(shownIndex(s)).toBe(0);
    s.pinned = 1;
    expect(shownIndex(s)).toBe(1);
    s.pinned = 0;
    expect(shownIndex(s)).toBe(0);
    expect(stepFor(s, 0)?.phase).toBe('prefill');
    expect(tokenTexts(s, 3)).toEqual(['A', ' b', ' c']);
  });

  it('falls back to the nearest earlier step when a step frame was coalesced away', () => {
    const s = newRun('g');
    applyMessage(s, started);
    applyMessage(s, step(0, [0, 1], [[[1], [0.5, 0.5]]]));
    expect(stepFor(s, 3)?.step).toBe(0);
    expect(stepFor(newRun('g'), 0)).toBeNull();
  });

  it('assembles the causal pattern of a head from the prefill rows and each decode row', () => {
    const s = newRun('g');
    applyMessage(s, started);
    applyMessage(
      s,
      step(
        0,
        [0, 1],
        [
          [[1], [0.25, 0.75]],
          [[1], [0.5, 0.5]],
        ],
      ),
    );
    applyMessage(s, step(1, [2], [[[0.2, 0.3, 0.5]], [[0.1, 0.1, 0.8]]]));
    expect([...attentionRows(s, 0, 1, 1).entries()]).toEqual([
      [0, [1]],
      [1, [0.5, 0.5]],
      [2, [0.1, 0.1, 0.8]],
    ]);
    // Up to the prefill only: two rows.
    expect(attentionRows(s, 0, 0, 0).size).toBe(2);
    expect(attentionRows(s, 5, 0, 1).size).toBe(0);
  });
});
