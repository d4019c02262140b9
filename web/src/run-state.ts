// The state of one generation on the page, updated frame by frame (a pure reducer over stream messages).
import type {
  DoneMessage,
  ServerMessage,
  StartedMessage,
  StepMessage,
  TokenMessage,
} from '../../src/schemas/stream.js';

export type RunPhase = 'connecting' | 'running' | 'done' | 'error';

export interface RunState {
  id: string;
  phase: RunPhase;
  started: StartedMessage | null;
  /** step frames by step number (0 = prefill); a slow reader may miss some. */
  steps: Map<number, StepMessage>;
  /** token frames by generated index. */
  tokens: TokenMessage[];
  done: DoneMessage | null;
  error: { code: string; message: string } | null;
  /** Generated index whose step is on screen; null = follow the newest. */
  pinned: number | null;
}

export function newRun(id: string): RunState {
  return {
    id,
    phase: 'connecting',
    started: null,
    steps: new Map(),
    tokens: [],
    done: null,
    error: null,
    pinned: null,
  };
}

/** Apply one server frame; frames of other generations are ignored. Returns the same object (mutated) for cheap redraws. */
export function applyMessage(state: RunState, msg: ServerMessage): RunState {
  if (!('id' in msg) || msg.id !== state.id) return state;
  switch (msg.type) {
    case 'started':
      state.started = msg;
      state.phase = 'running';
      break;
    case 'step':
      state.steps.set(msg.step, msg);
      break;
    case 'token':
      state.tokens[msg.index] = msg;
      break;
    case 'done':
      state.done = msg;
      if (state.phase !== 'error') state.phase = msg.reason === 'error' ? 'error' : 'done';
      break;
    case 'error':
      state.error = { code: msg.code, message: msg.message };
      state.phase = 'error';
      break;
    default:
      break;
  }
  return state;
}

/**
 * The generated index on screen: the pinned one; while generating, the newest token (the page follows along); once
 * done, the first generated token — the model's answer to the prompt (" Paris"), not a trailing end-of-text.
 */
export function shownIndex(state: RunState): number {
  if (state.pinned !== null) return state.pinned;
  if (state.done !== null) return 0;
  return Math.max(0, state.tokens.length - 1);
}

/**
 * Token i is predicted by step i (step 0 = prefill). If that step frame was coalesced away,
 * fall back to the nearest earlier step so the panel still shows something truthful and labelled.
 */
export function stepFor(state: RunState, index: number): StepMessage | null {
  for (let s = index; s >= 0; s--) {
    const step = state.steps.get(s);
    if (step) return step;
  }
  return null;
}

/**
 * Attention rows of one layer/head from the prefill up to `upTo` (inclusive), keyed by query position.
 * Cached keys never change, so prefill rows plus each decode step's single row form the full causal pattern.
 */
export function attentionRows(
  state: RunState,
  layer: number,
  head: number,
  upTo: number,
): Map<number, ArrayLike<number>> {
  const rows = new Map<number, ArrayLike<number>>();
  for (let s = 0; s <= upTo; s++) {
    const step = state.steps.get(s);
    const att = step?.attention.find((a) => a.layer === layer);
    const h = att?.heads.find((x) => x.head === head);
    if (!att || !h) continue;
    att.query_positions.forEach((q, i) => {
      const row = h.rows[i];
      if (row) rows.set(q, row);
    });
  }
  return rows;
}

/** Text of every token position up to `cacheLength`: prompt tokens then generated ones. */
export function tokenTexts(state: RunState, cacheLength: number): string[] {
  const texts = (state.started?.prompt_tokens ?? []).map((t) => t.text);
  for (const t of state.tokens) if (t && t.position < cacheLength) texts[t.position] = t.token.text;
  return texts.slice(0, cacheLength);
}
