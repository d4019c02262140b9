// One live generation: prefill, then one token per forward pass with the KV cache, publishing frames to its
// owner and subscribers in seq order, with pacing, cancellation, stop criteria and a bounded replay buffer.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { FastifyBaseLogger } from 'fastify';
import { ProblemError } from '../errors/problem-error.js';
import type { ForwardResult, ModelRuntime, KvCache } from '../runtime/types.js';
import type { DoneReason } from '../schemas/stream.js';
import type { ResolvedIntervention } from '../interventions/types.js';
import { describeApplied, interventionsHash } from '../interventions/resolve.js';
import { actsFrom } from '../interventions/feeds.js';
import { CleanLane } from './clean-lane.js';
import { SeededRng } from '../sampling/rng.js';
import { sampleNext } from '../sampling/sample.js';
import { keptOutput, stopAfter } from '../sampling/stopping.js';
import { logitLens } from '../decode/logit-lens.js';
import { safeDecode, tokenText } from '../tokenizer/token-text.js';
import { traceShapes } from '../arch/trace-shapes.js';
import { step, type StepResult } from '../decode/step.js';
import type { ForwardSummary } from '../decode/summarize-forward.js';
import { attributeLastPosition } from '../attribution/run-attribution.js';
import type { ForwardGate } from './forward-gate.js';
import type { Peer } from './peer.js';
import type { GenerationPlan } from '../plan/generation-plan.js';
import { runPatchSources } from '../interventions/patch.js';
import { encodeFrame, errorFrame } from './frame.js';
import { ReplayBuffer } from './replay-buffer.js';

export interface GenerationDeps {
  loadRuntime: () => Promise<ModelRuntime>;
  gateFor: (runtime: ModelRuntime) => ForwardGate;
  log: FastifyBaseLogger;
  /** WS_REPLAY_BYTES: the replay buffer's bound. */
  replayBytes: number;
  /** Called once when the generation has ended (done or load error); the hub forgets it. */
  onFinished: (g: Generation) => void;
}

/** An unguessable share token (144 random bits, base64url): what `subscribe` must present. */
export function newShareToken(): string {
  return randomBytes(18).toString('base64url');
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

export class Generation {
  /** The owner's label for it (per connection: another connection may use the same id for its own). */
  readonly id: string;
  /** Server-made, unguessable; sent to the owner in `started`; `subscribe` must present it. */
  readonly share = newShareToken();
  readonly model: string;
  /** Watching connections, each with its own label for this generation. */
  readonly subscribers = new Map<Peer, string>();
  /** Generated tokens so far (progress, for stats and tests). */
  readonly tokenIds: number[] = [];
  private seq = 0;
  private finished = false;
  private cancelReason: string | null = null;
  private readonly buffer: ReplayBuffer;
  private readonly times = { runMs: 0, summarizeMs: 0, pausedMs: 0, prefillMs: 0 };
  /** The newest KV cache, released when the generation ends (a worker-backed runtime holds it in its worker). */
  private cache: KvCache | null = null;
  /** The edits in force (patch sources run) and their hash (null: none). */
  private edits: readonly ResolvedIntervention[] = [];
  private editsHash: string | null = null;
  /** An `intervene` set waiting for the next forward pass. */
  private pending: readonly ResolvedIntervention[] | null = null;
  /** compare: true: the clean generation in lockstep. */
  private clean: CleanLane | null = null;

  constructor(
    /** The validated request (its model sizes and prompt also resolve an `intervene`). */
    readonly plan: GenerationPlan,
    readonly owner: Peer,
    private readonly deps: GenerationDeps,
  ) {
    this.id = plan.id;
    this.model = plan.model;
    this.buffer = new ReplayBuffer(deps.replayBytes);
  }

  get done(): boolean {
    return this.finished;
  }

  /** Ask the loop to stop at its next await; it then publishes `done` `cancelled`. */
  cancel(detail: string): void {
    if (!this.finished && this.cancelReason === null) this.cancelReason = detail;
  }

  /** Replace the interventions from the next forward pass on (the owner's `intervene`, already resolved). */
  intervene(list: readonly ResolvedIntervention[]): void {
    if (!this.finished) this.pending = list;
  }

  /** Bytes its replay buffer holds. */
  get replayBytes(): number {
    return this.buffer.bytes;
  }

  /**
   * Join under the subscriber's own `label`: `subscribed`, the replay, then live frames (all in one tick: no gap,
   * no duplicate). A finished generation (in its grace period) replays up to its `done` and adds no subscriber.
   */
  subscribe(peer: Peer, label: string): void {
    const { started, frames, missed, missedSteps, missedTokens } = this.buffer.snapshot();
    peer.send({
      type: 'subscribed',
      id: label,
      replayed: frames.length,
      missed,
      missed_steps: missedSteps,
      missed_tokens: missedTokens,
    });
    if (started) peer.deliver(started, label, 'subscriber');
    for (const f of frames) peer.deliver(f, label, 'subscriber');
    if (this.finished) {
      peer.forget(label);
      return;
    }
    this.subscribers.set(peer, label);
    peer.labels.set(label, this);
  }

  unsubscribe(peer: Peer): void {
    const label = this.subscribers.get(peer);
    if (label === undefined) return;
    this.subscribers.delete(peer);
    peer.labels.delete(label);
    peer.forget(label);
  }

  /** The grace period is over: let the replay buffer go. */
  release(): void {
    this.buffer.release();
  }

  private publish(type: string, body: Record<string, unknown>): void {
    if (this.finished) return;
    const f = encodeFrame(type, this.seq++, body);
    this.buffer.push(f);
    this.owner.deliver(f, this.id, 'owner');
    for (const [s, label] of this.subscribers) s.deliver(f, label, 'subscriber');
  }

  /** Over: free the owner's and the subscribers' labels and tell the hub. */
  private end(): void {
    this.finished = true;
    if (this.owner.labels.get(this.id) === this) this.owner.labels.delete(this.id);
    for (const s of [...this.subscribers.keys()]) this.unsubscribe(s);
    this.deps.onFinished(this);
  }

  async run(): Promise<void> {
    let runtime: ModelRuntime;
    try {
      runtime = await this.deps.loadRuntime();
    } catch (err) {
      const e = err instanceof ProblemError ? err : undefined;
      if (!e) this.deps.log.error({ err, generation: this.id }, 'model load failed');
      this.owner.send(
        errorFrame(
          this.id,
          e?.code ?? 'model_load_failed',
          e?.detail ?? `The model "${this.plan.model}" could not be loaded; the error was logged.`,
          e?.extra,
        ),
      );
      this.end();
      return;
    }
    const t0 = performance.now();
    try {
      const reason = await this.loop(runtime, this.deps.gateFor(runtime), t0);
      this.finish(reason.reason, t0, reason.detail);
    } catch (err) {
      this.deps.log.error({ err, generation: this.id }, 'generation failed');
      const e = err instanceof ProblemError ? err : undefined;
      this.publish('error', {
        code: e?.code ?? 'generation_failed',
        message: e?.detail ?? 'The generation failed inside the model runtime; the error was logged.',
      });
      this.finish('error', t0, 'See the preceding error frame.');
    } finally {
      if (this.cache) runtime.release?.(this.cache);
      this.cache = null;
      this.clean?.release();
    }
  }

  private stopped = () => this.cancelReason !== null;

  private async loop(
    runtime: ModelRuntime,
    gate: ForwardGate,
    t0: number,
  ): Promise<{ reason: DoneReason; detail?: string }> {
    const { plan } = this;
    const { params } = plan;
    const tok = plan.tokenizer;
    const rules = {
      maxNewTokens: params.max_new_tokens,
      stopAtEos: params.stop_at_eos,
      eosId: tok.eosId,
      stop: params.stop,
    };
    const P = plan.promptIds.length;
    const cancelled = () => ({ reason: 'cancelled' as const, detail: this.cancelReason ?? undefined });
    this.publishStarted(runtime);
    if (this.stopped()) return cancelled();

    // Prefill: [P] prompt ids -> activations over P positions + logits [P, d_vocab] + cache of length P.
    // patch sources run once, clean; the edits then apply to the prefill and every decode step
    if (plan.interventions.length) await this.useEdits(runtime, plan.interventions);
    await this.takePending(runtime, 0); // an `intervene` sent while the model loaded
    const run = (f: () => Promise<ForwardResult>) => gate.run(f);
    let current = await step(
      runtime,
      {
        tokenIds: plan.promptIds,
        fetch: plan.fetch,
        interventions: this.edits,
        summarize: this.summarizeAt(plan.prefillPositions),
      },
      run,
    );
    let result = current.result;
    let summary = this.emitStep(current, 0, plan.prefillPositions);
    this.cache = result.present;
    const clean = (this.clean = plan.compare
      ? new CleanLane(runtime, tok, plan.sampling, params.seed, rules, run)
      : null);
    await clean?.advance(plan.promptIds);
    this.times.prefillMs = performance.now() - t0;
    const rng = new SeededRng(params.seed);
    for (let index = 0; index < params.max_new_tokens; index++) {
      if (this.stopped()) return cancelled();
      const predPos = P + index - 1; // the position whose logits predict this token
      const offset = index === 0 ? 0 : predPos; // first new position of the last forward pass
      const { row } = current; // [d_vocab] after the last new token
      const { tokenId, record } = sampleNext(row, plan.sampling, rng);
      const res = result;
      const lens = params.logit_lens
        ? await gate.run(() =>
            logitLens(runtime, res.activations, res.logits, [predPos], offset, params.alternatives, tok),
          )
        : null;
      // the chosen token's logit decomposed at the predicting position (the last of this forward pass)
      const attribution = plan.attribution
        ? await attributeLastPosition(plan.info.dir, runtime.dims, res, [tokenId], 10, tok).then((a) => ({
            ...a,
            position: offset + a.position, // absolute (a decode pass covers one new position)
          }))
        : null;
      if (this.stopped()) return cancelled();
      this.tokenIds.push(tokenId);
      const baseline = clean?.next(index, tokenId);
      const text = safeDecode(this.tokenIds, tok);
      this.publish('token', {
        index,
        position: P + index,
        token: { id: tokenId, text: tokenText(tokenId, tok) },
        logit: row[tokenId] as number,
        prob: record.prob,
        alternatives: summary.top_k,
        logit_lens: lens,
        sampling: record,
        text,
        ...(attribution ? { attribution } : {}),
        interventions_hash: this.editsHash,
        ...(clean ? { baseline } : {}),
      });
      const stop = stopAfter(rules, tokenId, index + 1, text);
      if (stop === 'length') break;
      if (stop) return { reason: stop };

      // Pace on the owner: don't compute the next step while it has not read the previous ones.
      this.times.pausedMs += await this.owner.waitDrained(this.stopped);
      await this.takePending(runtime, index + 1);
      if (this.stopped()) return cancelled();
      // Decode: [1] new id + cache of length P+index -> activations over 1 position + logits [1, d_vocab].
      const past = this.cache;
      current = await step(
        runtime,
        {
          tokenIds: [tokenId],
          past,
          fetch: plan.fetch,
          interventions: this.edits,
          summarize: this.summarizeAt([P + index]),
        },
        run,
      );
      result = current.result;
      this.cache = result.present;
      runtime.release?.(past); // nothing branches from a superseded step: free it now, not at the next GC
      await clean?.stepOn();
      if (this.stopped()) return cancelled();
      summary = this.emitStep(current, index + 1, [P + index]);
    }
    return { reason: 'length' };
  }

  /** Put `list` in force: run its patch sources (once, clean) and hash it. */
  private async useEdits(runtime: ModelRuntime, list: readonly ResolvedIntervention[]): Promise<void> {
    this.edits = list.length ? await runPatchSources(runtime, list) : [];
    this.editsHash = list.length ? interventionsHash(list) : null;
  }

  /** Before forward pass `stepIndex`: put a pending `intervene` in force and say so in an `intervened` frame. */
  private async takePending(runtime: ModelRuntime, stepIndex: number): Promise<void> {
    const list = this.pending;
    if (list === null) return;
    this.pending = null;
    await this.useEdits(runtime, list);
    const P = this.plan.promptIds.length;
    // step 0 computes the prompt; step n >= 1 the position P + n - 1
    const from = stepIndex === 0 ? 0 : P + stepIndex - 1;
    const idle = list.flatMap((r, i) => (actsFrom(r, from) ? [] : [i]));
    this.publish('intervened', {
      from_step: stepIndex,
      applied: describeApplied(list, P),
      interventions_hash: this.editsHash,
      ...(idle.length
        ? {
            note:
              `interventions ${idle.join(', ')} select only positions already in the KV cache (from ${from} on ` +
              'nothing is left for them): they change nothing; "last" or "all" act on every new token.',
          }
        : {}),
    });
  }

  private publishStarted(runtime: ModelRuntime): void {
    const { plan } = this;
    const d = runtime.dims;
    this.publish('started', {
      model: plan.model,
      share: this.share,
      params: plan.params,
      prompt_tokens: plan.promptIds.map((id, position) => ({
        id,
        text: tokenText(id, plan.tokenizer),
        position,
      })),
      hooks: plan.hooks,
      dims: {
        n_layer: d.nLayer,
        n_head: d.nHead,
        d_model: d.dModel,
        d_head: d.dHead,
        d_mlp: d.dMlp,
        d_vocab: d.dVocab,
        n_ctx: d.nCtx,
      },
      shapes: traceShapes(plan.info.config, plan.promptIds.length),
      applied: describeApplied(plan.interventions, plan.promptIds.length),
      interventions_hash: plan.interventions.length ? interventionsHash(plan.interventions) : null,
    });
  }

  /** What a step summarises at `positions` (absolute). */
  private summarizeAt(positions: readonly number[]) {
    const { params } = this.plan;
    return {
      hooks: this.plan.hooks,
      positions,
      detail: params.detail,
      topK: params.alternatives,
      logitLens: false, // the lens goes into the `token` frame, at the predicting position only
      bins: params.histogram_bins,
      tokenizer: this.plan.tokenizer,
    };
  }

  /** Publish one step's summaries (positions absolute) and count its time. */
  private emitStep(current: StepResult, index: number, positions: readonly number[]): ForwardSummary {
    const { result, summarizeMs } = current;
    const summary = current.summary as ForwardSummary; // every stream step summarises
    this.times.runMs += result.runMs;
    this.times.summarizeMs += summarizeMs;
    if (!this.stopped()) {
      this.publish('step', {
        step: index,
        phase: index === 0 ? 'prefill' : 'decode',
        positions,
        input_tokens: index === 0 ? this.plan.promptIds.length : 1,
        cache_length: result.present.length,
        hooks: summary.hooks,
        attention: summary.attention,
        run_ms: round3(result.runMs),
        summarize_ms: round3(summarizeMs),
        interventions_hash: this.editsHash,
      });
    }
    return summary;
  }

  private finish(reason: DoneReason, t0: number, detail?: string): void {
    const ids = this.tokenIds;
    const tok = this.plan.tokenizer;
    const stops = this.plan.params.stop;
    const { tokenIds: kept, text, stop } = keptOutput(reason, ids, (k) => safeDecode(k, tok), stops);
    const total = performance.now() - t0;
    const active = Math.max(total - this.times.pausedMs, 1e-9);
    this.publish('done', {
      reason,
      ...(detail ? { detail } : {}),
      tokens: kept.length,
      token_ids: kept,
      text,
      stop,
      timings: {
        prefill_ms: round3(this.times.prefillMs),
        decode_ms: round3(Math.max(0, total - this.times.prefillMs)),
        total_ms: round3(total),
        tokens_per_s: round3((ids.length / active) * 1000),
        run_ms: round3(this.times.runMs),
        summarize_ms: round3(this.times.summarizeMs),
        paused_ms: round3(this.times.pausedMs),
      },
      ...(this.clean ? { baseline: this.clean.summary(stops) } : {}),
    });
    this.end();
  }
}
