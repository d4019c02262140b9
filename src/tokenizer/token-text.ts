// Ids -> text for replies and frames: one token's text, and the one lenient decode (never throws on unknown ids).
import { GPT2_TOKENIZER, type ModelTokenizer } from './model-tokenizer.js';

/** Text of a token id in the model's tokenizer (GPT-2's by default); unknown ids get a `<|id:N|>` placeholder. */
export function tokenText(id: number, tokenizer: ModelTokenizer = GPT2_TOKENIZER): string {
  return tokenizer.tokenText(id);
}

/** Decode ids to text; ids the tokenizer does not know fall back to per-token placeholders. */
export function safeDecode(ids: readonly number[], tokenizer: ModelTokenizer = GPT2_TOKENIZER): string {
  try {
    return tokenizer.decode(ids);
  } catch {
    return ids.map((id) => tokenizer.tokenText(id)).join('');
  }
}
