// GPT-2 byte-level BPE (r50k_base): prompt -> token ids, token id -> faithful token text.
import r50k, { decode as r50kDecode, vocabularySize } from 'gpt-tokenizer/encoding/r50k_base';
import { type BoundedIds, buildVocabulary, encodeOrdinary } from './bpe.js';

/** 50257: 50256 merges/bytes + <|endoftext|>. Equals GPT-2's d_vocab. */
export const vocabSize: number = vocabularySize;

/** <|endoftext|>, GPT-2's only special token (also its BOS). */
export const END_OF_TEXT_ID = 50256;

const END_OF_TEXT = '<|endoftext|>';

/**
 * Prompt -> ids exactly as the Hugging Face GPT-2 tokenizer does (no BOS added).
 * `<|endoftext|>` written in the text becomes id 50256, as in HF: the text is split around it and each
 * piece is encoded on its own; other special-looking text is ordinary text.
 */
export function encode(text: string): number[] {
  const r = encodeBounded(text, Number.POSITIVE_INFINITY);
  if (r.over) throw new Error('unreachable: no token budget');
  return r.ids;
}

/**
 * encode() with a token budget: `{ over: true }` as soon as the text provably needs more than `maxTokens`
 * tokens, decided from its length before any merging when it is long enough (no token spells more than
 * MAX_TOKEN_BYTES bytes) and otherwise while encoding. Costs milliseconds for any text the schemas admit.
 */
export function encodeBounded(text: string, maxTokens: number): BoundedIds {
  const ids: number[] = [];
  const pieces = text.split(END_OF_TEXT);
  for (let i = 0; i < pieces.length; i++) {
    if (i > 0) ids.push(END_OF_TEXT_ID);
    const piece = pieces[i] as string;
    if (piece === '') continue;
    const r = encodeOrdinary(piece, vocabulary(), maxTokens - ids.length);
    if (r.over) return r;
    for (const id of r.ids) ids.push(id);
  }
  return ids.length > maxTokens ? { over: true } : { over: false, ids };
}

/** ids -> text; bytes of tokens that only form valid UTF-8 together (emoji halves) are joined first. */
export function decode(ids: readonly number[]): string {
  for (const id of ids) assertId(id);
  return r50kDecode(ids);
}

function assertId(id: number): void {
  if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
    throw new RangeError(`Token id ${id} is outside the GPT-2 vocabulary [0, ${vocabSize}).`);
  }
}

// gpt-tokenizer keeps each token's raw bytes in its BPE core (not part of its typed API). We reach for
// it only to render tokens whose bytes are not valid UTF-8 on their own; if that internal ever moves,
// decodeToken() degrades to gpt-tokenizer's own decode (U+FFFD for the broken bytes) instead of failing.
interface BpeCore {
  tryDecodeToken(id: number): string | Uint8Array | undefined;
}
const core = (r50k as unknown as { bytePairEncodingCoreProcessor?: BpeCore }).bytePairEncodingCoreProcessor;
const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

let vocab: ReturnType<typeof buildVocabulary> | undefined;
/** The BPE vocabulary (built once, on first use: ~50k entries). */
function vocabulary(): ReturnType<typeof buildVocabulary> {
  vocab ??= buildVocabulary(END_OF_TEXT_ID, tokenBytes);
  return vocab;
}

/** Byte length of GPT-2's longest token (128): n tokens spell at most n × this many UTF-8 bytes. */
export function maxTokenBytes(): number {
  return vocabulary().maxTokenBytes;
}

/** Raw bytes of one token (byte-level BPE: every token is a byte string). */
export function tokenBytes(id: number): Uint8Array {
  assertId(id);
  const v = core?.tryDecodeToken(id);
  if (v instanceof Uint8Array) return v;
  return utf8.encode(typeof v === 'string' ? v : r50kDecode([id]));
}

/**
 * Text of a single token, leading space included (" Paris"). Tokens whose bytes are not valid UTF-8
 * by themselves (e.g. one half of an emoji, id 8582 = bytes F0 9F 98) are rendered as `\xNN` escapes
 * of their bytes ("\xf0\x9f\x98"), so every id has a stable, lossless, printable rendering.
 */
export function decodeToken(id: number): string {
  const bytes = tokenBytes(id);
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return Array.from(bytes, (b) => `\\x${b.toString(16).padStart(2, '0')}`).join('');
  }
}
