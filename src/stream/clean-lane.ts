// The clean generation of `generate` compare: true: the same prompt, sampling and seed, no interventions, on its
// own KV cache, one token per step of the intervened generation. The generation's loop decides when it steps.
import { type RunForward, step } from '../decode/step.js';
import type { KvCache, ModelRuntime } from '../runtime/types.js';
import { SeededRng } from '../sampling/rng.js';
import { type SamplingParams, sampleNext } from '../sampling/sample.js';
import { keptOutput, type StopReason, type StopRules, stopAfter } from '../sampling/stopping.js';
import type { ModelTokenizer } from '../tokenizer/model-tokenizer.js';
import { safeDecode, tokenText } from '../tokenizer/token-text.js';

export interface CleanToken {
  token: { id: number; text: string };
  logit: number;
  prob: number;
  text: string;
  same: boolean;
}

export class CleanLane {
  readonly tokenIds: number[] = [];
  /** Why it stopped on its own; null while it runs. */
  stopped: StopReason | null = null;
  private cache: KvCache | null = null;
  private row: Float32Array | null = null;
  private readonly rng: SeededRng;

  constructor(
    private readonly runtime: ModelRuntime,
    private readonly tok: ModelTokenizer,
    private readonly sampling: SamplingParams,
    seed: number,
    private readonly rules: StopRules,
    private readonly run: RunForward,
  ) {
    this.rng = new SeededRng(seed);
  }

  /** Forward pass over `ids` after the lane's cache (the prompt first, then its own last token); no hooks. */
  async advance(ids: readonly number[]): Promise<void> {
    const past = this.cache ?? undefined;
    // [new] ids + cache -> logits [new, d_vocab] + cache of length +new
    const { result, row } = await step(this.runtime, { tokenIds: ids, past, fetch: [] }, this.run);
    this.cache = result.present;
    this.row = row;
    if (past) this.runtime.release?.(past);
  }

  /** Its token at `index`, sampled from its last row, next to the intervened `tokenId`; null once it has stopped. */
  next(index: number, tokenId: number): CleanToken | null {
    if (this.stopped || !this.row) return null;
    const row = this.row;
    const { tokenId: id, record } = sampleNext(row, this.sampling, this.rng);
    this.tokenIds.push(id);
    const text = safeDecode(this.tokenIds, this.tok);
    this.stopped = stopAfter(this.rules, id, index + 1, text);
    return {
      token: { id, text: tokenText(id, this.tok) },
      logit: row[id] as number,
      prob: record.prob,
      text,
      same: id === tokenId,
    };
  }

  /** Feed its newest token (when it has not stopped). */
  async stepOn(): Promise<void> {
    if (!this.stopped) await this.advance([this.tokenIds.at(-1) as number]);
  }

  /** The `done` frame's baseline: kept tokens and text under the same trimming rules. */
  summary(stops: readonly string[]) {
    const reason = this.stopped ?? (this.tokenIds.length >= this.rules.maxNewTokens ? 'length' : 'unfinished');
    const { tokenIds, text, stop } = keptOutput(reason, this.tokenIds, (ids) => safeDecode(ids, this.tok), stops);
    return { reason, tokens: tokenIds.length, token_ids: tokenIds, text, stop };
  }

  release(): void {
    if (this.cache) this.runtime.release?.(this.cache);
    this.cache = null;
  }
}
