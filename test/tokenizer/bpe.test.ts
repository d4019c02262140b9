// The O(n log n) BPE against gpt-tokenizer's own (quadratic) merge loop, and the inputs that used to fail.
import { encode as libraryEncode } from 'gpt-tokenizer/encoding/r50k_base';
import { describe, expect, it } from 'vitest';
import { utf8Length } from '../../src/tokenizer/bpe.js';
import { encode, encodeBounded, maxTokenBytes, tokenBytes } from '../../src/tokenizer/gpt2-tokenizer.js';

const reference = (s: string) => libraryEncode(s, { disallowedSpecial: new Set() });

/** Deterministic pseudo-random text from a mixed alphabet (letters, digits, marks, CJK, emoji, spaces, lone surrogates). */
function randomText(seed: number, length: number): string {
  const alphabet = [
    ...'aaaeeeinnorssttt  ',
    'The',
    ' the',
    "'s",
    '\n',
    '\t',
    '  ',
    '0',
    '12',
    '中',
    '文',
    'é',
    '\u0301',
    'ÿ',
    '😀',
    '👩‍👧',
    '\ud800',
    '\udc00',
    '—',
    '...',
    '!!',
    'ÃÂ',
  ];
  let x = seed >>> 0;
  let s = '';
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    s += alphabet[x % alphabet.length];
  }
  return s;
}

describe('byte-level BPE', () => {
  it('gives the ids of gpt-tokenizer on 300 mixed random texts and on long single words', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const text = randomText(seed, 5 + (seed % 80));
      expect(encode(text), JSON.stringify(text)).toEqual(reference(text));
    }
    for (const word of ['x'.repeat(3000), '中'.repeat(500), 'ÃÂ'.repeat(700), 'ab'.repeat(999), '-'.repeat(2000)]) {
      expect(encode(word)).toEqual(reference(word));
    }
  });

  it('the longest token spells 128 bytes; utf8Length counts as TextEncoder writes', () => {
    expect(maxTokenBytes()).toBe(128);
    for (const s of ['abc', 'é中😀', '\ud800x\udc00', '\ud83d', '']) {
      expect(utf8Length(s)).toBe(new TextEncoder().encode(s).length);
    }
  });

  // Each of these overflowed the stack (500) or took seconds before.
  it.each([
    ['"ÿ"×100000', 'ÿ'.repeat(100_000)],
    ['"a" + U+0301×99999', `a${'\u0301'.repeat(99_999)}`],
    ['"a "×130000', 'a '.repeat(130_000)],
    ['"x"×100000', 'x'.repeat(100_000)],
    ['"中"×30000', '中'.repeat(30_000)],
  ])('%s encodes without overflow, byte-exact', (_name, text) => {
    const ids = encode(text);
    let n = 0;
    for (const id of ids) n += tokenBytes(id).length;
    expect(n).toBe(new TextEncoder().encode(text).length);
  });

  it('encodeBounded gives up on a budget, from the length alone when the text is long enough', () => {
    expect(encodeBounded('x'.repeat(100_000), 64)).toEqual({ over: true });
    expect(encodeBounded('Hello world', 1)).toEqual({ over: true });
    expect(encodeBounded('Hello world', 2)).toEqual({ over: false, ids: [15496, 995] });
    expect(encodeBounded('a<|endoftext|>b', 2)).toEqual({ over: true });
    expect(encodeBounded('a<|endoftext|>b', 3)).toEqual({ over: false, ids: [64, 50256, 65] });
  });
});
