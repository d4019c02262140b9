// Stopping criteria: max_new_tokens, end-of-text, and stop strings matched on the decoded generated text.

/** GPT-2's <|endoftext|> id. */
export const EOS_TOKEN_ID = 50256;

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
