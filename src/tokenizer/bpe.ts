// Byte-level BPE in O(n log n) per word, with a token budget checked before and during the work.
//
// gpt-tokenizer's own merge loop is quadratic in the length of one pre-tokenized word ("x"×30000: ~4 s,
// "中"×10000: ~3 s) and spreads results into arrays (stack overflow on "ÿ"×100000). This encoder uses the same
// vocabulary and pre-tokenizer and the same merge rule as tiktoken (repeatedly merge the adjacent pair whose
// concatenation has the lowest rank, leftmost first), with a heap over pairs and a linked list of parts.

/** GPT-2's pre-tokenizer (r50k_base), as in the Hugging Face tokenizer. */
const SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

const utf8 = new TextEncoder();

export interface BpeVocabulary {
  /** Token bytes as a binary string (one char per byte, 0..255) -> rank (= token id for r50k_base). */
  ranks: Map<string, number>;
  /** Byte length of the longest token: no token spells more bytes than this. */
  maxTokenBytes: number;
}

/** Vocabulary from each id's raw bytes (ids 0..count-1; special tokens excluded). */
export function buildVocabulary(count: number, bytesOf: (id: number) => Uint8Array): BpeVocabulary {
  const ranks = new Map<string, number>();
  let maxTokenBytes = 0;
  for (let id = 0; id < count; id++) {
    const b = bytesOf(id);
    ranks.set(binary(b, 0, b.length), id);
    if (b.length > maxTokenBytes) maxTokenBytes = b.length;
  }
  return { ranks, maxTokenBytes };
}

function binary(bytes: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(bytes[i] as number);
  return s;
}

/** UTF-8 byte length of a JS string (lone surrogates count as U+FFFD, 3 bytes, as TextEncoder writes them). */
export function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

/** Result of a bounded encode: `ids` complete, or `over` when the text needs more than `maxTokens` tokens. */
export type BoundedIds = { over: false; ids: number[] } | { over: true };

/**
 * text -> ids (no special tokens), giving up as soon as the text provably needs more than `maxTokens` tokens:
 * first from its UTF-8 length (a token spells at most `maxTokenBytes` bytes), then per word while encoding.
 * The cost is linear in the text (log-linear within a word), never quadratic.
 */
export function encodeOrdinary(text: string, vocab: BpeVocabulary, maxTokens = Number.POSITIVE_INFINITY): BoundedIds {
  if (utf8Length(text) > maxTokens * vocab.maxTokenBytes) return { over: true };
  const ids: number[] = [];
  for (const [word] of text.matchAll(SPLIT)) {
    const bytes = utf8.encode(word);
    const whole = bytes.length <= vocab.maxTokenBytes ? vocab.ranks.get(binary(bytes, 0, bytes.length)) : undefined;
    if (whole !== undefined) ids.push(whole);
    else mergeWord(bytes, vocab, ids);
    if (ids.length > maxTokens) return { over: true };
  }
  return { over: false, ids };
}

/**
 * One word's bytes -> its tokens, appended to `out`. Parts form a linked list (next/prev by start index);
 * the heap holds candidate merges (rank, start) and entries made stale by earlier merges are skipped.
 */
function mergeWord(bytes: Uint8Array, vocab: BpeVocabulary, out: number[]): void {
  const n = bytes.length;
  const { ranks, maxTokenBytes } = vocab;
  const next = new Int32Array(n + 1); // part starting at i ends at next[i]
  const prev = new Int32Array(n + 1);
  const alive = new Uint8Array(n + 1);
  for (let i = 0; i <= n; i++) {
    next[i] = i + 1;
    prev[i] = i - 1;
    alive[i] = 1;
  }
  // Rank of merging the part at i with the one after it (Infinity when there is none or no such token).
  const pairRank = (i: number): number => {
    const j = next[i] as number;
    if (j >= n) return Number.POSITIVE_INFINITY;
    const end = next[j] as number;
    if (end - i > maxTokenBytes) return Number.POSITIVE_INFINITY;
    return ranks.get(binary(bytes, i, end)) ?? Number.POSITIVE_INFINITY;
  };
  const heap = new MinHeap();
  const current = new Float64Array(n); // the pair rank currently valid for each start
  for (let i = 0; i < n - 1; i++) {
    const r = pairRank(i);
    current[i] = r;
    if (r !== Number.POSITIVE_INFINITY) heap.push(r, i);
  }
  while (heap.size > 0) {
    const [r, i] = heap.pop();
    if (alive[i] !== 1 || current[i] !== r) continue; // stale
    // Merge part i with its successor j.
    const j = next[i] as number;
    alive[j] = 0;
    next[i] = next[j] as number;
    if ((next[j] as number) <= n) prev[next[j] as number] = i;
    const ri = pairRank(i);
    current[i] = ri;
    if (ri !== Number.POSITIVE_INFINITY) heap.push(ri, i);
    const p = prev[i] as number;
    if (p >= 0) {
      const rp = pairRank(p);
      current[p] = rp;
      if (rp !== Number.POSITIVE_INFINITY) heap.push(rp, p);
    }
  }
  for (let i = 0; i < n; i = next[i] as number) {
    const id = ranks.get(binary(bytes, i, next[i] as number));
    if (id === undefined) throw new Error('byte-level BPE: a part is not in the vocabulary');
    out.push(id);
  }
}

/** Binary min-heap of (rank, start), ordered by rank then start: tiktoken's leftmost-lowest merge. */
class MinHeap {
  private r: number[] = [];
  private s: number[] = [];
  get size(): number {
    return this.r.length;
  }
  private less(a: number, b: number): boolean {
    const ra = this.r[a] as number;
    const rb = this.r[b] as number;
    return ra < rb || (ra === rb && (this.s[a] as number) < (this.s[b] as number));
  }
  private swap(a: number, b: number): void {
    const tr = this.r[a] as number;
    this.r[a] = this.r[b] as number;
    this.r[b] = tr;
    const ts = this.s[a] as number;
    this.s[a] = this.s[b] as number;
    this.s[b] = ts;
  }
  push(rank: number, start: number): void {
    this.r.push(rank);
    this.s.push(start);
    let k = this.r.length - 1;
    while (k > 0) {
      const p = (k - 1) >> 1;
      if (!this.less(k, p)) break;
      this.swap(k, p);
      k = p;
    }
  }
  pop(): [number, number] {
    const top: [number, number] = [this.r[0] as number, this.s[0] as number];
    const lastR = this.r.pop() as number;
    const lastS = this.s.pop() as number;
    if (this.r.length > 0) {
      this.r[0] = lastR;
      this.s[0] = lastS;
      let k = 0;
      for (;;) {
        const l = 2 * k + 1;
        const rt = l + 1;
        let m = k;
        if (l < this.r.length && this.less(l, m)) m = l;
        if (rt < this.r.length && this.less(rt, m)) m = rt;
        if (m === k) break;
        this.swap(k, m);
        k = m;
      }
    }
    return top;
  }
}
