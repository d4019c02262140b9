// Stopping criteria, the one stop module: end-of-text, stop strings matched on the decoded generated text, and the
// length limit. Both decode loops (/trace's greedy continuation, the stream) ask `stopAfter` after each new token.

/**
 * Why a generation ended: `eos` (the model's end-of-text id, from its tokenizer), `stop` (a stop string),
 * `length` (max_new_tokens reached). /trace calls `length` "max_new_tokens" in its reply (TRACE_STOP_REASON).
 */
export type StopReason = 'eos' | 'stop' | 'length';

export interface StopRules {
  maxNewTokens: number;
  stopAtEos: boolean;
  /** The model's end-of-text id (null: the model has none, so it never stops on one). */
  eosId: number | null;
  /** Stop strings; empty: none. */
  stop?: readonly string[];
}

/**
 * After the `count`-th new token `id` (the generated text so far: `text`, needed only with stop strings): the
 * reason to stop, or null to go on. Checked in this order: end-of-text, stop string, length.
 */
export function stopAfter(rules: StopRules, id: number, count: number, text?: string): StopReason | null {
  if (rules.stopAtEos && rules.eosId !== null && id === rules.eosId) return 'eos';
  if (rules.stop && rules.stop.length > 0 && text !== undefined && findStop(text, rules.stop)) return 'stop';
  if (count >= rules.maxNewTokens) return 'length';
  return null;
}

/** /trace's words for a stop reason (its reply predates the stream's `length`). */
export const TRACE_STOP_REASON = { eos: 'eos', length: 'max_new_tokens' } as const;

export interface StopMatch {
  stop: string;
  /** Index in the generated text where the stop string begins; the kept text is text.slice(0, index). */
  index: number;
}

/**
 * The earliest occurrence of any stop string in `text` (ties at the same index: the longer string wins, so
 * overlapping stops trim the same way whichever order they were given in). Null when none matches.
 * Matching is on the decoded text, not token ids, because a stop string may span or split tokens.
 */
export function findStop(text: string, stops: readonly string[]): StopMatch | null {
  let best: StopMatch | null = null;
  for (const stop of stops) {
    if (stop.length === 0) continue;
    const index = text.indexOf(stop);
    if (index < 0) continue;
    if (!best || index < best.index || (index === best.index && stop.length > best.stop.length)) best = { stop, index };
  }
  return best;
}

/**
 * How many of the generated tokens lie entirely before character `cut` of their concatenated texts:
 * a token that straddles the stop string is dropped with it.
 */
export function tokensBefore(tokenTexts: readonly string[], cut: number): number {
  let end = 0;
  let n = 0;
  for (const t of tokenTexts) {
    end += t.length;
    if (end > cut) break;
    n++;
  }
  return n;
}

/**
 * What a generation keeps once it has ended: without a final end-of-text, and cut before the earliest stop
 * string (with every token that reaches into it). `decode` turns ids into text (the model's tokenizer).
 */
export function keptOutput(
  reason: string,
  ids: readonly number[],
  decode: (ids: readonly number[]) => string,
  stops: readonly string[],
): { tokenIds: number[]; text: string; stop: string | null } {
  let kept = reason === 'eos' ? ids.slice(0, -1) : [...ids];
  let text = decode(kept);
  const match = reason === 'stop' ? findStop(text, stops) : null;
  if (!match) return { tokenIds: kept, text, stop: null };
  text = text.slice(0, match.index);
  // Keep the tokens whose text lies entirely before the stop string.
  while (kept.length > 0 && decode(kept).length > match.index) kept = kept.slice(0, -1);
  return { tokenIds: kept, text, stop: match.stop };
}
