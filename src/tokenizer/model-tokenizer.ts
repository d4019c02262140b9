// The tokenizer of a runnable model: GPT-2's r50k_base BPE for GPT-2 checkpoints, or the Hugging Face tokenizer.json
// shipped in the model folder (llama family), loaded with @huggingface/tokenizers (special tokens, the
// post-processor's BOS, byte-level decoding). Everything that turns text into ids or ids into text asks this.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { unprocessable } from '../errors/problem-error.js';
import { type BoundedIds, utf8Length } from './bpe.js';
import * as gpt2 from './gpt2-tokenizer.js';

export interface ModelTokenizer {
  /** `gpt2-bpe` (r50k_base), `tokenizer.json` (the model's own file) or `none` (token_ids only). */
  readonly kind: 'gpt2-bpe' | 'tokenizer.json' | 'none';
  readonly bosId: number | null;
  readonly eosId: number | null;
  /** Whether encode() puts BOS in front of the text (Llama 3: yes; GPT-2, SmolLM2, Qwen: no). */
  readonly prependsBos: boolean;
  /** Text -> ids with the model's special tokens (BOS when it prepends one). */
  encode(text: string): number[];
  /**
   * encode() within a token budget: `{ over: true }` when the text needs more than `maxTokens` ids, decided from
   * its length before any work when it is long enough (each token spells at most a fixed number of bytes).
   */
  encodeBounded(text: string, maxTokens: number): BoundedIds;
  /** Ids -> text; throws for ids the tokenizer does not know. */
  decode(ids: readonly number[]): string;
  /** One token's text (leading space kept); unknown ids get a `<|id:N|>` placeholder. */
  tokenText(id: number): string;
}

const placeholder = (id: number) => `<|id:${id}|>`;

export const GPT2_TOKENIZER: ModelTokenizer = Object.freeze({
  kind: 'gpt2-bpe' as const,
  bosId: null,
  eosId: gpt2.END_OF_TEXT_ID,
  prependsBos: false,
  encode: gpt2.encode,
  encodeBounded: gpt2.encodeBounded,
  decode: gpt2.decode,
  tokenText: (id: number) => (id >= 0 && id < gpt2.vocabSize ? gpt2.decodeToken(id) : placeholder(id)),
});

function refuse(model: string): never {
  throw unprocessable(
    'no_tokenizer',
    `${model} has no tokenizer.json in its folder, so it cannot tokenize text; send "token_ids" instead.`,
  );
}

/** A llama-family folder without tokenizer.json: token_ids work, text prompts are a 422 saying so. */
export function noTokenizer(model: string, eosId: number | null): ModelTokenizer {
  return Object.freeze({
    kind: 'none' as const,
    bosId: null,
    eosId,
    prependsBos: false,
    encode: () => refuse(model),
    encodeBounded: () => refuse(model),
    decode: (ids: readonly number[]) => ids.map(placeholder).join(''),
    tokenText: placeholder,
  });
}

const tokenContent = (t: unknown): string | undefined =>
  typeof t === 'string'
    ? t
    : typeof t === 'object' && t !== null
      ? ((t as { content?: string }).content ?? undefined)
      : undefined;

const firstId = (v: unknown): number | null =>
  typeof v === 'number' ? v : Array.isArray(v) && typeof v[0] === 'number' ? v[0] : null;

/**
 * tokenizer.json (+ tokenizer_config.json when present) of a model folder. BOS / EOS come from tokenizer_config.json
 * (bos_token, eos_token), else from config.json (bos_token_id, eos_token_id); whether BOS is prepended is observed by
 * encoding a text, so it follows the file's post-processor. Returns null when the folder has no tokenizer.json.
 */
export async function loadTokenizerJson(dir: string, config: Record<string, unknown>): Promise<ModelTokenizer | null> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path.join(dir, 'tokenizer.json'), 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`${path.join(dir, 'tokenizer.json')} is not a readable JSON file: ${(err as Error).message}`);
  }
  let tokConfig: Record<string, unknown> = {};
  try {
    tokConfig = JSON.parse(await readFile(path.join(dir, 'tokenizer_config.json'), 'utf8'));
  } catch {
    // optional
  }
  const tok = new Tokenizer(json as object, tokConfig);
  const idOf = (t: unknown) => {
    const c = tokenContent(t);
    return c === undefined ? undefined : tok.token_to_id(c);
  };
  const bosId = idOf(tokConfig.bos_token) ?? firstId(config.bos_token_id);
  const eosId = idOf(tokConfig.eos_token) ?? firstId(config.eos_token_id);
  const probe = tok.encode('a', { add_special_tokens: true }).ids;
  const prependsBos = bosId !== null && probe.length > 1 && probe[0] === bosId;
  const decode = (ids: readonly number[]) => {
    for (const id of ids) if (tok.id_to_token(id) === undefined) throw new RangeError(`Token id ${id} is unknown.`);
    return tok.decode([...ids], { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  };
  // Longest vocabulary entry in characters; a character of it spells at most 4 UTF-8 bytes (byte-level vocabularies:
  // exactly 1), so n tokens spell at most n × 4 × this many bytes.
  let maxTokenChars = 1;
  for (const key of tok.get_vocab(true).keys()) if (key.length > maxTokenChars) maxTokenChars = key.length;
  const encode = (text: string) => tok.encode(text, { add_special_tokens: true }).ids;
  return Object.freeze({
    kind: 'tokenizer.json' as const,
    bosId,
    eosId,
    prependsBos,
    encode,
    encodeBounded: (text: string, maxTokens: number): BoundedIds => {
      if (utf8Length(text) > maxTokens * 4 * maxTokenChars) return { over: true };
      const ids = encode(text);
      return ids.length > maxTokens ? { over: true } : { over: false, ids };
    },
    decode,
    tokenText: (id: number) => (tok.id_to_token(id) === undefined ? placeholder(id) : decode([id])),
  });
}
