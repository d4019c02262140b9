// POST /trace: request and response schemas (validation, TS types and OpenAPI come from here).
import { z } from 'zod';
import { DIMS } from '../hooks/catalogue.js';
import { PositionsSchema, PromptTextSchema, SummaryPositionsSchema, TokenIdsSchema } from './fields.js';
import { AppliedSchema, HookDeltaSchema, InterventionsSchema, MetricSchema, MetricsSchema } from './interventions.js';

export { PositionsSchema, PromptTextSchema, SummaryPositionsSchema, TokenIdsSchema };
import { AttributionRequestSchema, AttributionSchema } from './attribution.js';

/** top_k is capped at 100: a longer list is noise to a reader and costs a full sort per row in the logit lens. */
export const TOP_K_MAX = 100;
/** More bins than this would make the histogram longer than the summary it belongs to. */
export const HISTOGRAM_BINS_MAX = 256;
export const HISTOGRAM_BINS_DEFAULT = 32;

/** Input fields /trace and the stream's `generate` share (the same limits and words in both). */
export const ModelNameSchema = z.string().min(1).max(200);
/** A hook name or glob; the cap bounds matching work (longest hook name: under 40 characters). */
export const HookPatternSchema = z.string().min(1).max(200);
export const DetailSchema = z
  .enum(['summary', 'full'])
  .default('summary')
  .describe('summary: statistics + histogram per hook; full: also the raw values (capped by MAX_RETURNED_VALUES)');
export const HistogramBinsSchema = z.number().int().min(1).max(HISTOGRAM_BINS_MAX).default(HISTOGRAM_BINS_DEFAULT);

export const TraceRequestSchema = z
  .object({
    model: ModelNameSchema.optional().describe('Runnable model name; defaults to the server default model'),
    prompt: PromptTextSchema.optional().describe('Text to tokenize (GPT-2 BPE). Exactly one of prompt / token_ids.'),
    token_ids: TokenIdsSchema.optional().describe('Token ids in [0, d_vocab). Exactly one of prompt / token_ids.'),
    hooks: z
      .array(HookPatternSchema)
      .max(512)
      .optional()
      .describe(
        'Hook names or glob patterns (`*` matches any run of characters, dots included): ' +
          '`blocks.*.attn.hook_pattern`, `blocks.3.*`, `*resid_post`. Omitted: an overview (see docs/trace.md); []: no hooks (only top-k / lens / continuation).',
      ),
    positions: SummaryPositionsSchema.default('all'),
    detail: DetailSchema,
    top_k: z
      .number()
      .int()
      .min(1)
      .max(TOP_K_MAX)
      .default(10)
      .describe(`Next-token candidates and logit-lens tokens per row (1..${TOP_K_MAX})`),
    logit_lens: z
      .boolean()
      .default(true)
      .describe('Apply ln_final + unembedding to the embedding and every resid_post'),
    lens_positions: SummaryPositionsSchema.default('last').describe(
      'Positions the logit lens reads (same forms as positions). Default "last": each lens row costs a full ' +
        'unembedding (d_model x d_vocab multiply-adds), so "all" on a long prompt costs far more than the forward pass.',
    ),
    histogram_bins: HistogramBinsSchema,
    max_new_tokens: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe('Greedy continuation length (0 = only the next-token distribution); capped by MAX_NEW_TOKENS'),
    stop_at_eos: z.boolean().default(true).describe('Stop the greedy continuation at <|endoftext|> (50256)'),
    interventions: InterventionsSchema.optional().describe(
      'Edits applied during the run, in order (see docs/interventions.md); the continuation runs with them too',
    ),
    compare: z
      .boolean()
      .default(false)
      .describe('Also run the clean model on the same input: `baseline` and per-hook `delta` in the reply'),
    metric: MetricSchema.optional().describe('Measured on the clean and the intervened run (runs the clean one)'),
    format: z
      .enum(['json', 'safetensors', 'npz'])
      .optional()
      .describe(
        'Reply format. json (default): the summary reply. safetensors / npz: a file with one float32 tensor per selected ' +
          'hook under its TransformerLens name over the selected positions (limit: EXPORT_MAX_BYTES, not ' +
          'MAX_RETURNED_VALUES); also chosen by Accept: application/vnd.safetensors or application/x-npz. See docs/export.md.',
      ),
    attribution: AttributionRequestSchema.default(false),
  })
  .strict()
  .meta({ id: 'TraceRequest', example: { prompt: 'The capital of France is', top_k: 5, max_new_tokens: 2 } });

export type TraceRequest = z.infer<typeof TraceRequestSchema>;
export type TracePositions = z.infer<typeof PositionsSchema>;

/** Which tokenizer produced the ids. */
export const TokenizerKindSchema = z
  .enum(['gpt2-bpe', 'tokenizer.json', 'none'])
  .describe("gpt2-bpe: GPT-2's r50k_base; tokenizer.json: the model folder's own file; none: token_ids only");

export const TokenSchema = z
  .object({ id: z.number().int(), text: z.string(), position: z.number().int() })
  .meta({ id: 'TraceToken' });

export const AxisSchema = z
  .object({
    name: z.enum(DIMS).describe('An axis word of the hook catalogue (src/hooks/catalogue.ts)'),
    size: z.number().int(),
  })
  .meta({ id: 'TraceAxis' });

export const HistogramSchema = z
  .object({
    min: z.number().nullable().describe('Lower edge of the first bin (the smallest finite value); null if none'),
    max: z.number().nullable().describe('Upper edge of the last bin (the largest finite value); null if none'),
    edges: z
      .array(z.number())
      .describe('bins+1 equally spaced edges; bin i is [edges[i], edges[i+1]), the last bin also includes max'),
    counts: z.array(z.number().int()).describe('Finite values per bin; NaN/Inf are counted in the stats instead'),
  })
  .meta({ id: 'Histogram' });

export const StatsSchema = z
  .object({
    count: z.number().int().describe('Number of values summarised (after slicing positions)'),
    finite_count: z.number().int(),
    mean: z.number().nullable().describe('Over finite values; null when there are none'),
    std: z
      .number()
      .nullable()
      .describe('Population standard deviation (divides by N, like torch.std(unbiased=False)) over finite values'),
    min: z.number().nullable(),
    max: z.number().nullable(),
    l2_norm: z.number().describe('sqrt of the sum of squares of the finite values (the whole slice, not per row)'),
    abs_max: z.number().nullable().describe('Largest |x| over finite values'),
    abs_max_index: z
      .object({
        flat: z.number().int().describe('Row-major index into the summarised slice'),
        index: z.array(z.number().int()).describe('Index per axis of the summarised slice'),
        coords: z
          .record(z.string(), z.number().int())
          .describe('Same index by axis name, with pos/query_pos translated to absolute token positions'),
      })
      .nullable(),
    nan_count: z.number().int(),
    pos_inf_count: z.number().int(),
    neg_inf_count: z.number().int().describe('Masked attention scores are -inf by definition'),
  })
  .meta({ id: 'TensorStats' });

/**
 * Float32 values (activations): a Float32Array where the service makes them, a JSON array of numbers on the wire
 * (each the shortest decimal that reads back to the same float32, NaN/±Inf as null; src/json/json-bytes.ts writes
 * it), so a plain array wherever a reply has been parsed.
 */
const float32List = <T extends number | null>(items: { type: 'number'; nullable?: true }) =>
  z
    .custom<Float32Array | T[]>(
      (v) =>
        v instanceof Float32Array ||
        (Array.isArray(v) && v.every((x) => typeof x === 'number' || (items.nullable === true && x === null))),
    )
    .meta({ type: 'array', items });

export const Float32ListSchema = float32List<number>({ type: 'number' });

export const HookSummarySchema = z
  .object({
    hook: z.string().describe('Full TransformerLens hook name, e.g. blocks.0.attn.hook_pattern'),
    site: z.string().describe('Hook site without the block prefix, e.g. attn.hook_pattern'),
    layer: z.number().int().nullable(),
    axes: z.array(AxisSchema).describe('Axes of the summarised slice (positions already selected)'),
    shape: z.array(z.number().int()),
    full_shape: z.array(z.number().int()).describe('Shape of the activation before selecting positions'),
    positions: z.array(z.number().int()).describe('Absolute token positions along the pos / query_pos axis'),
    stats: StatsSchema,
    histogram: HistogramSchema,
    values: float32List<number | null>({ type: 'number', nullable: true })
      .optional()
      .describe(
        'detail=full only: the slice, flat row-major over `shape`; NaN/±Inf are written as null (JSON has no Inf). ' +
          'Each value is the shortest decimal that reads back to the same float32',
      ),
  })
  .meta({ id: 'HookSummary' });

export const AttentionLayerSchema = z
  .object({
    layer: z.number().int(),
    hook: z.string(),
    query_positions: z.array(z.number().int()),
    heads: z.array(
      z.object({
        head: z.number().int(),
        rows: z
          .array(Float32ListSchema)
          .describe(
            'One row per query position q: the pattern over key_pos 0..q (length q+1, sums to 1). Values are float32, ' +
              'each written as the shortest decimal that reads back to the same float32 (0.55106086, not ' +
              '0.5510608553886414)',
          ),
      }),
    ),
  })
  .meta({ id: 'AttentionLayer' });

export const TokenProbSchema = z
  .object({ id: z.number().int(), text: z.string(), prob: z.number() })
  .meta({ id: 'TokenProb' });

export const NextTokenSchema = z
  .object({ id: z.number().int(), text: z.string(), prob: z.number(), logit: z.number() })
  .meta({ id: 'NextToken' });

export const LogitLensSchema = z
  .object({
    stages: z
      .array(z.string())
      .describe(
        'Residual-stream points in order: blocks.0.hook_resid_pre (the embedding), then each blocks.{i}.hook_resid_post',
      ),
    positions: z.array(
      z.object({
        position: z.number().int(),
        final_top1: TokenProbSchema.describe('Top-1 token of the real output distribution at this position'),
        layers: z.array(
          z.object({
            stage: z.string(),
            layer: z.number().int().describe('Block index; -1 for the embedding (resid_pre of block 0)'),
            top: z.array(TokenProbSchema),
            final_top1_prob: z.number().describe('Probability this stage gives to final_top1'),
          }),
        ),
      }),
    ),
  })
  .meta({ id: 'LogitLens' });

export const GeneratedSchema = z
  .object({
    tokens: z.array(TokenProbSchema.extend({ position: z.number().int() })),
    text: z.string().describe('Decoded continuation only'),
    full_text: z.string().describe('Prompt + continuation, decoded'),
    stop_reason: z.enum(['max_new_tokens', 'eos']),
  })
  .meta({ id: 'Generated' });

export const TraceResponseSchema = z
  .object({
    model: z.string(),
    dims: z
      .object({
        n_layer: z.number().int(),
        n_head: z.number().int(),
        d_model: z.number().int(),
        d_head: z.number().int(),
        d_mlp: z.number().int(),
        d_vocab: z.number().int(),
        n_ctx: z.number().int(),
      })
      .meta({ id: 'TraceDims' }),
    tokens: z.array(TokenSchema),
    tokenizer: TokenizerKindSchema,
    bos_prepended: z.boolean().describe("true when the model's tokenizer put its BOS token in front of the prompt"),
    positions: z.array(z.number().int()).describe('The selected positions (absolute, ascending)'),
    shapes: z
      .unknown()
      .nullable()
      .describe('Shape flow of this exact run (see GET /models/{name}/shapes), seq_len = number of prompt tokens'),
    hooks: z.array(HookSummarySchema).describe('One entry per expanded hook name, in forward order'),
    attention: z.array(AttentionLayerSchema).describe('Present when attn.hook_pattern hooks were selected'),
    logit_lens: LogitLensSchema.nullable(),
    top_k: z.array(NextTokenSchema).describe('Next-token distribution after the last prompt token'),
    generated: GeneratedSchema.nullable(),
    applied: z.array(AppliedSchema).describe('Each intervention as resolved ([] without interventions)'),
    interventions_hash: z
      .string()
      .nullable()
      .describe('sha256 of the resolved interventions (null without): equal hashes, equal edits'),
    baseline: z
      .object({
        hooks: z.array(HookSummarySchema),
        logit_lens: LogitLensSchema.nullable(),
        top_k: z.array(NextTokenSchema),
        generated: GeneratedSchema.nullable(),
      })
      .nullable()
      .describe('compare: true: the clean run, summarised the same way'),
    delta: z.array(HookDeltaSchema).nullable().describe('compare: true: per requested hook, intervened - baseline'),
    metrics: MetricsSchema.nullable(),
    attribution: AttributionSchema.nullable().describe(
      'Direct logit attribution at the last prompt position, when asked',
    ),
    timings: z
      .object({
        tokenize_ms: z.number(),
        load_ms: z.number().describe('Time waiting for the model (0 once loaded)'),
        run_ms: z.number(),
        summarize_ms: z.number(),
        generate_ms: z.number(),
        total_ms: z.number(),
      })
      .meta({ id: 'TraceTimings' }),
    note: z.string(),
  })
  .meta({ id: 'TraceResponse' });

export type TraceResponse = z.infer<typeof TraceResponseSchema>;
export type HookSummary = z.infer<typeof HookSummarySchema>;
export type TensorStats = z.infer<typeof StatsSchema>;
export type Histogram = z.infer<typeof HistogramSchema>;
export type AttentionLayer = z.infer<typeof AttentionLayerSchema>;
export type LogitLens = z.infer<typeof LogitLensSchema>;
export type NextToken = z.infer<typeof NextTokenSchema>;
export type TraceToken = z.infer<typeof TokenSchema>;
