// GPT-2 tokenizer: exact ids for known prompts, leading spaces, unicode/emoji byte fidelity, token renderings.
import { describe, expect, it } from 'vitest';
import {
  decode,
  decodeToken,
  encode,
  END_OF_TEXT_ID,
  tokenBytes,
  vocabSize,
} from '../../src/tokenizer/gpt2-tokenizer.js';

const utf8 = (s: string) => Array.from(new TextEncoder().encode(s));

describe('encode', () => {
  // ids as published for the Hugging Face "gpt2" tokenizer
  it.each([
    ['The capital of France is', [464, 3139, 286, 4881, 318]],
    ['Hello world', [15496, 995]],
    [' Paris', [6342]],
    ['Hello', [15496]],
    [' Hello', [18435]],
    ['<|endoftext|>', [50256]],
  ])('%j -> %j', (text, ids) => {
    expect(encode(text)).toEqual(ids);
  });

  it('splits around <|endoftext|> as HF does (the space before it is its own token)', () => {
    expect(encode('a <|endoftext|>b')).toEqual([64, 220, END_OF_TEXT_ID, 65]);
  });

  it.each(['Hi 😀 héllo', '日本語のテキスト', '👩‍👩‍👧 family', '  two  spaces\n\ttab', 'ﬁ ligature, Ω, ☃', ''])(
    'byte-level: the tokens of %j concatenate to its exact UTF-8 bytes and decode back',
    (text) => {
      const ids = encode(text);
      expect(ids.flatMap((id) => Array.from(tokenBytes(id)))).toEqual(utf8(text));
      expect(decode(ids)).toBe(text);
    },
  );
});

describe('decodeToken', () => {
  it('keeps the leading space', () => {
    expect(decodeToken(6342)).toBe(' Paris');
    expect(decodeToken(464)).toBe('The');
    expect(decodeToken(220)).toBe(' ');
    expect(decodeToken(END_OF_TEXT_ID)).toBe('<|endoftext|>');
  });

  it('renders tokens that are not valid UTF-8 alone as \\xNN escapes of their bytes', () => {
    const [first, second] = encode(' 😀'); // U+1F600 = F0 9F 98 80, split across two tokens
    expect(decodeToken(first)).toBe('\\x20\\xf0\\x9f\\x98');
    expect(decodeToken(second)).toBe('\\x80');
  });

  it('covers the whole vocabulary and refuses ids outside it', () => {
    expect(vocabSize).toBe(50257);
    expect(() => decodeToken(50257)).toThrow(RangeError);
    expect(() => decodeToken(-1)).toThrow(RangeError);
    expect(() => decode([1.5])).toThrow(RangeError);
  });
});
