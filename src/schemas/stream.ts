// WebSocket frames of GET /stream (protocol tensortrace.stream/1): zod unions on `type` for both directions.
// docs/stream-protocol.md describes the session; this file is the single source of the frame shapes.
import { z } from 'zod';
import { SweepRequestSchema, SweepResponseSchema } from './sweep.js';
import { AttributionSchema } from './attribution.js';
import { AppliedSchema, InterventionsSchema } from './interventions.js';
import {
  AttentionLayerSchema,
  DetailSchema,
  HistogramBinsSchema,
  HookPatternSchema,
  HookSummarySchema,
  ModelNameSchema,
  PromptTextSchema,
  TokenIdsSchema,
  LogitLensSchema,
  NextTokenSchema,
  SummaryPositionsSchema,
  TOP_K_MAX,
  TokenSchema,
  TraceResponseSchema,
} from './trace.js';

export const STREAM_PROTOCOL = 'tensortrace.stream/1';

/** max_new_tokens when a `generate` names none (lowered to MAX_NEW_TOKENS when the server cap is smaller). */
export const DEFAULT_NEW_TOKENS = 32;

/**
 * Generation ids are the client's own labels, scoped to its connection (another connection's `g1` is another
 * generation, and cannot be named from here); short and printable so they can appear in logs.
 */
export const GenerationIdSchema = z
  .string()
  .regex(/^[\w.:-]{1,64}$/, 'must be 1-64 characters of letters, digits, _ . : -')
  .describe(
    'Client-chosen label of a generation, unique among the live generations this connection owns or watches; ' +
      'scoped to the connection',
  );

/** Server-made share token of a generation: 144 random bits, base64url. */
export const ShareTokenSchema = z
  .string()
  .regex(/^[\w-]{16,64}$/, 'must be a share token from a `started` frame')
  .describe('Unguessable token the server gives the owner in `started`; whoever holds it can subscribe');

// ---------------------------------------------------------------- client -> server

export const GenerateMessageSchema = z
  .object({
    type: z.literal('generate'),
    id: GenerationIdSchema,
    prompt: PromptTextSchema.optional().describe('Text to tokenize (exactly one of prompt / token_ids)'),
    token_ids: TokenIdsSchema.optional().describe('Token ids in [0, d_vocab) (exactly one of prompt / token_ids)'),
    model: ModelNameSchema.optional().describe('Runnable model name; default: hello.default_model'),
    max_new_tokens: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe(`Tokens to generate; default ${DEFAULT_NEW_TOKENS} or hello.limits.max_new_tokens if lower (the cap)`),
    temperature: z.number().min(0).max(100).default(0).describe('0 = greedy (argmax); otherwise logits / temperature'),
    top_k: z.number().int().min(0).default(0).describe('Keep the k most likely tokens; 0 = off, 1 = greedy'),
    top_p: z
      .number()
      .gt(0)
      .max(1)
      .default(1)
      .describe('Nucleus: smallest set whose probability reaches top_p; 1 = off'),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 32 - 1)
      .optional()
      .describe('uint32 RNG seed; omitted = server picks one and reports it in `started`'),
    stop: z
      .array(z.string().min(1).max(64))
      .max(8)
      .default([])
      .describe('Stop strings, matched on the decoded generated text; the output is trimmed before the match'),
    stop_at_eos: z.boolean().default(true).describe('Stop when <|endoftext|> (50256) is sampled'),
    hooks: z
      .array(HookPatternSchema)
      .max(256)
      .optional()
      .describe('Hook names or glob patterns as in POST /trace; omitted = the /trace default overview'),
    detail: DetailSchema,
    logit_lens: z
      .boolean()
      .default(true)
      .describe('Logit lens of every layer at the position that predicts each token'),
    alternatives: z
      .number()
      .int()
      .min(1)
      .max(TOP_K_MAX)
      .default(10)
      .describe('Top-n next-token alternatives in each `token`, and tokens per logit-lens row (as /trace top_k)'),
    histogram_bins: HistogramBinsSchema,
    attribution: z
      .boolean()
      .default(false)
      .describe(
        'Direct logit attribution of every generated token (its logit at the predicting position) in its `token` ' +
          'frame, as /trace attribution (GPT-2 checkpoints)',
      ),
    prefill_positions: SummaryPositionsSchema.default('last').describe(
      'Positions the prefill `step` summarises (as /trace positions); decode steps always summarise the new token',
    ),
    interventions: InterventionsSchema.optional().describe(
      'Edits in force from the prefill on (docs/interventions.md): prompt positions act through the KV cache, "last" ' +
        'on every new token; an `intervene` message replaces them',
    ),
    compare: z
      .boolean()
      .default(false)
      .describe(
        'Also run the clean model in lockstep on its own KV cache (same sampling and seed): every `token` frame ' +
          'carries the clean token next to the intervened one, and `done` the clean text',
      ),
  })
  .strict()
  .meta({ id: 'StreamGenerate' });

export const InterveneMessageSchema = z
  .object({
    type: z.literal('intervene'),
    id: GenerationIdSchema.describe('A live generation this connection started'),
    interventions: InterventionsSchema.describe(
      'Replaces the set in force from the next forward pass on ([] = none); validated as in `generate`',
    ),
  })
  .strict()
  .meta({ id: 'StreamIntervene' });

export const CancelMessageSchema = z
  .object({ type: z.literal('cancel'), id: GenerationIdSchema })
  .meta({ id: 'StreamCancel' });

export const SubscribeMessageSchema = z
  .object({
    type: z.literal('subscribe'),
    id: GenerationIdSchema.describe('Your label for the generation: its frames reach you under this id'),
    share: ShareTokenSchema,
  })
  .strict()
  .meta({ id: 'StreamSubscribe' });

export const UnsubscribeMessageSchema = z
  .object({ type: z.literal('unsubscribe'), id: GenerationIdSchema })
  .meta({ id: 'StreamUnsubscribe' });

export const PingMessageSchema = z
  .object({ type: z.literal('ping'), nonce: z.string().max(64).optional() })
  .meta({ id: 'StreamPing' });

export const SweepMessageSchema = SweepRequestSchema.extend({
  type: z.literal('sweep'),
  id: GenerationIdSchema.describe('Your label for the sweep: its progress and result frames carry it'),
})
  .strict()
  .meta({ id: 'StreamSweep' });

export const ClientMessageSchema = z.discriminatedUnion('type', [
  GenerateMessageSchema,
  InterveneMessageSchema,
  SweepMessageSchema,
  CancelMessageSchema,
  SubscribeMessageSchema,
  UnsubscribeMessageSchema,
  PingMessageSchema,
]);

// ---------------------------------------------------------------- server -> client

export const StreamLimitsSchema = z.object({
  max_message_bytes: z.number().int().describe('Largest client frame; bigger frames close the socket with 1009'),
  max_new_tokens: z.number().int(),
  max_connections: z.number().int(),
  max_generations: z.number().int().describe('Live generations across the whole server'),
  max_connections_per_client: z.number().int().describe('Connections one client (remote address) may hold'),
  max_generations_per_client: z.number().int().describe('Live generations one client may run, across its connections'),
  max_buffered_bytes: z
    .number()
    .int()
    .describe('Send-buffer level above which stepping pauses (owner) or steps coalesce (subscribers)'),
  hard_buffered_bytes: z
    .number()
    .int()
    .describe('Send-buffer level (plus one step frame) above which a subscriber is disconnected (close 1013)'),
  replay_bytes: z
    .number()
    .int()
    .describe('Bytes of frames kept per generation for late subscribers (step frames are dropped first)'),
  replay_grace_ms: z.number().int().describe('How long a finished generation can still be subscribed to'),
  heartbeat_ms: z.number().int(),
});

export const HelloMessageSchema = z
  .object({
    type: z.literal('hello'),
    protocol: z.literal(STREAM_PROTOCOL),
    default_model: z.string(),
    models: z.array(z.string()).describe('Runnable model names'),
    limits: StreamLimitsSchema,
  })
  .meta({ id: 'StreamHello' });

const TokenRefSchema = z.object({ id: z.number().int(), text: z.string() });

/** Every generation frame carries its id and a per-generation sequence number (started = 0, no gaps). */
const genFields = {
  id: GenerationIdSchema,
  seq: z.number().int().min(0).describe('Per-generation message number: started = 0, then +1 per frame, no gaps'),
};

export const ResolvedParamsSchema = z.object({
  max_new_tokens: z.number().int(),
  temperature: z.number(),
  top_k: z.number().int(),
  top_p: z.number(),
  seed: z.number().int(),
  greedy: z.boolean().describe('true when temperature = 0 or top_k = 1: argmax, no RNG draw'),
  stop: z.array(z.string()),
  stop_at_eos: z.boolean(),
  detail: z.enum(['summary', 'full']),
  logit_lens: z.boolean(),
  alternatives: z.number().int(),
  histogram_bins: z.number().int(),
  prefill_positions: z.array(z.number().int()).describe('Resolved absolute positions'),
  compare: z.boolean(),
});

const InterventionsHashSchema = z
  .string()
  .nullable()
  .describe('sha256 of the interventions in force when this was computed (as /trace interventions_hash); null: none');

export const StartedMessageSchema = z
  .object({
    type: z.literal('started'),
    ...genFields,
    model: z.string(),
    owner: z.boolean().describe('true on the connection that sent `generate`'),
    share: ShareTokenSchema.describe('Give it to whoever should watch: `subscribe` with it (id = their own label)'),
    params: ResolvedParamsSchema,
    prompt_tokens: z.array(TokenSchema),
    hooks: z.array(z.string()).describe('Exact hook names summarised in every step (patterns expanded)'),
    dims: TraceResponseSchema.shape.dims,
    shapes: TraceResponseSchema.shape.shapes,
    applied: z.array(AppliedSchema).describe('The interventions of `generate` as resolved (as /trace applied)'),
    interventions_hash: InterventionsHashSchema,
  })
  .meta({ id: 'StreamStarted' });

export const IntervenedMessageSchema = z
  .object({
    type: z.literal('intervened'),
    ...genFields,
    from_step: z
      .number()
      .int()
      .min(0)
      .describe('The first `step` computed with the new set (its token frame has index = from_step)'),
    applied: z.array(AppliedSchema),
    interventions_hash: InterventionsHashSchema,
    note: z
      .string()
      .optional()
      .describe('Present when part of the set can no longer act (prompt positions are already in the KV cache)'),
  })
  .describe('An `intervene` took effect: every frame from `from_step` on was made with this set')
  .meta({ id: 'StreamIntervened' });

export const StepMessageSchema = z
  .object({
    type: z.literal('step'),
    ...genFields,
    step: z
      .number()
      .int()
      .min(0)
      .describe('0 = prefill (the prompt); n >= 1 = the forward pass that fed back generated token index n-1'),
    phase: z.enum(['prefill', 'decode']),
    positions: z
      .array(z.number().int())
      .describe('Positions summarised: prefill_positions (prefill) or [the new token]'),
    input_tokens: z.number().int().describe('Tokens fed in this forward pass (prompt length, then 1)'),
    cache_length: z.number().int().describe('KV-cache length after the pass'),
    hooks: z.array(HookSummarySchema).describe('Same items as /trace `hooks`, over `positions`, all layers'),
    attention: z
      .array(AttentionLayerSchema)
      .describe('Pattern rows of `positions` per layer and head (when attn.hook_pattern hooks are selected)'),
    coalesced: z.number().int().min(0).describe('Earlier steps not sent to this client because it read too slowly'),
    run_ms: z.number(),
    summarize_ms: z.number(),
    interventions_hash: InterventionsHashSchema,
  })
  .meta({ id: 'StreamStep' });

export const SamplingRecordSchema = z
  .object({
    greedy: z.boolean(),
    temperature: z.number(),
    top_k: z.number().int(),
    top_p: z.number(),
    candidates: z.number().int().describe('Tokens surviving temperature/top-k/top-p'),
    rank: z.number().int().describe('0-based rank of the chosen token by logit among all tokens'),
    prob: z.number().describe('Chosen token probability, softmax of raw logits (temperature 1)'),
    prob_tempered: z.number().describe('After temperature, before top-k/top-p'),
    prob_filtered: z.number().describe('After top-k/top-p renormalisation: the probability it was drawn with'),
    draw: z.number().nullable().describe('Uniform u in [0,1) the token was drawn with (null when greedy)'),
    rng_counter: z.number().int().describe('RNG draws consumed before this step (replay: seed + counter -> draw)'),
    seed: z.number().int(),
  })
  .meta({ id: 'StreamSamplingRecord' });

export const TokenMessageSchema = z
  .object({
    type: z.literal('token'),
    ...genFields,
    index: z.number().int().min(0).describe('0-based index among generated tokens'),
    position: z.number().int().describe('Position the token will occupy'),
    token: TokenRefSchema,
    logit: z.number(),
    prob: z.number().describe('softmax of raw logits (temperature 1)'),
    alternatives: z.array(NextTokenSchema).describe('Top-n by raw logit at the predicting position'),
    logit_lens: LogitLensSchema.nullable().describe(
      'As /trace logit_lens, for the one predicting position (null when logit_lens=false)',
    ),
    sampling: SamplingRecordSchema,
    text: z.string().describe('Generated text so far (untrimmed)'),
    attribution: AttributionSchema.optional().describe(
      'With generate attribution: true: the direct logit attribution of this token at the predicting position',
    ),
    interventions_hash: InterventionsHashSchema,
    baseline: z
      .object({
        token: TokenRefSchema,
        logit: z.number(),
        prob: z.number().describe('softmax of the clean raw logits (temperature 1)'),
        text: z.string().describe('Clean generated text so far (untrimmed)'),
        same: z.boolean().describe('The clean token is the intervened one'),
      })
      .nullable()
      .optional()
      .describe(
        "With generate compare: true: the clean generation's token at this index (its own context, sampled with " +
          'the same seed); null once the clean generation has stopped',
      ),
  })
  .meta({ id: 'StreamToken' });

export const DoneReasonSchema = z.enum(['length', 'stop', 'eos', 'cancelled', 'error']);

export const DoneMessageSchema = z
  .object({
    type: z.literal('done'),
    ...genFields,
    reason: DoneReasonSchema,
    detail: z.string().optional().describe('Why, in a sentence (cancelled: by whom; error: what)'),
    tokens: z.number().int().describe('Generated tokens kept (after stop-string trimming of the text)'),
    token_ids: z.array(z.number().int()),
    text: z.string().describe('Generated text, trimmed before the stop string if one matched'),
    stop: z.string().nullable().describe('The stop string that matched'),
    timings: z.object({
      prefill_ms: z.number(),
      decode_ms: z.number(),
      total_ms: z.number(),
      tokens_per_s: z.number().describe('Generated tokens / (prefill + decode wall time)'),
      run_ms: z.number().describe('Time inside onnxruntime'),
      summarize_ms: z.number(),
      paused_ms: z.number().describe('Time stepping waited on a slow reader'),
    }),
    coalesced: z.number().int().describe('Step frames not sent to this client (slow reader)'),
    baseline: z
      .object({
        reason: z
          .union([DoneReasonSchema, z.literal('unfinished')])
          .describe('Why the clean generation stopped; unfinished: the intervened one ended first'),
        tokens: z.number().int(),
        token_ids: z.array(z.number().int()),
        text: z.string(),
        stop: z.string().nullable(),
      })
      .optional()
      .describe('With generate compare: true: the clean generation, trimmed by the same rules'),
  })
  .meta({ id: 'StreamDone' });

export const ErrorMessageSchema = z
  .object({
    type: z.literal('error'),
    id: z.string().nullable().describe('Generation id the error belongs to (echoed as sent, even if invalid), or null'),
    code: z.string().describe('Stable snake_case code'),
    message: z.string(),
    seq: z.number().int().optional().describe('Present when the error is a frame of a generation'),
  })
  .catchall(z.unknown())
  .describe(
    "Also carries the same extra fields as the REST problem with that code (e.g. unknown_hook's valid_patterns and unknown)",
  )
  .meta({ id: 'StreamError' });

export const SubscribedMessageSchema = z
  .object({
    type: z.literal('subscribed'),
    id: GenerationIdSchema,
    replayed: z.number().int().describe('Frames replayed right after this message (before live frames)'),
    missed: z.number().int().describe('Frames that fell out of the replay buffer (seq gaps after `started`)'),
    missed_steps: z.number().int().describe('How many of the missed frames are `step` frames (dropped first)'),
    missed_tokens: z
      .number()
      .int()
      .describe(
        'How many are `token` frames (only when tokens alone overflow; the newest one, with the text, is kept)',
      ),
  })
  .meta({ id: 'StreamSubscribed' });

export const UnsubscribedMessageSchema = z
  .object({ type: z.literal('unsubscribed'), id: GenerationIdSchema })
  .meta({ id: 'StreamUnsubscribed' });

export const PongMessageSchema = z
  .object({ type: z.literal('pong'), nonce: z.string().optional() })
  .meta({ id: 'StreamPong' });

export const SweepProgressMessageSchema = z
  .object({
    type: z.literal('sweep_progress'),
    id: GenerationIdSchema,
    done: z.number().int().describe('Cells finished (cells that change nothing count as finished from the start)'),
    total: z.number().int(),
  })
  .meta({ id: 'StreamSweepProgress' });

export const SweepResultMessageSchema = z
  .object({ type: z.literal('sweep_result'), id: GenerationIdSchema, result: SweepResponseSchema })
  .meta({ id: 'StreamSweepResult' });

export const ServerMessageSchema = z.discriminatedUnion('type', [
  SweepProgressMessageSchema,
  SweepResultMessageSchema,
  HelloMessageSchema,
  StartedMessageSchema,
  IntervenedMessageSchema,
  StepMessageSchema,
  TokenMessageSchema,
  DoneMessageSchema,
  ErrorMessageSchema,
  SubscribedMessageSchema,
  UnsubscribedMessageSchema,
  PongMessageSchema,
]);

export type GenerateMessage = z.infer<typeof GenerateMessageSchema>;
export type SweepMessage = z.infer<typeof SweepMessageSchema>;
export type InterveneMessage = z.infer<typeof InterveneMessageSchema>;
export type IntervenedMessage = z.infer<typeof IntervenedMessageSchema>;
export type ClientMessage = z.infer<typeof ClientMessageSchema>;
export type ServerMessage = z.infer<typeof ServerMessageSchema>;
export type HelloMessage = z.infer<typeof HelloMessageSchema>;
export type StartedMessage = z.infer<typeof StartedMessageSchema>;
export type StepMessage = z.infer<typeof StepMessageSchema>;
export type TokenMessage = z.infer<typeof TokenMessageSchema>;
export type DoneMessage = z.infer<typeof DoneMessageSchema>;
export type ErrorMessage = z.infer<typeof ErrorMessageSchema>;
export type SubscribedMessage = z.infer<typeof SubscribedMessageSchema>;
export type SamplingRecord = z.infer<typeof SamplingRecordSchema>;
export type DoneReason = z.infer<typeof DoneReasonSchema>;
export type ResolvedParams = z.infer<typeof ResolvedParamsSchema>;
