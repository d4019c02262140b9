// Interventions: the request vocabulary shared by POST /trace and the stream (validation, TS types, OpenAPI).
import { z } from 'zod';
import { PositionsSchema, PromptTextSchema, TokenIdsSchema } from './fields.js';

/** A float vector: a JSON number array or base64 of little-endian float32 values. Finiteness is checked on resolve. */
export const VectorSchema = z
  .union([z.array(z.number()).min(1).max(1_000_000), z.object({ base64: z.string().min(1).max(8_000_000) }).strict()])
  .describe('A number array or {"base64": "<float32 little-endian>"}; its length is the last axis of the hook')
  .meta({ id: 'InterventionVector' });

const selector = {
  hook: z.string().min(1).max(200).describe('An exact catalogue hook name, e.g. blocks.9.attn.hook_z (no globs)'),
  heads: z
    .array(z.number().int())
    .min(1)
    .max(1024)
    .optional()
    .describe('Heads to touch; only on hooks with a head axis (hook_q, hook_k, hook_v, hook_z). Omitted: every head'),
  positions: PositionsSchema.default('all').describe(
    '"all" (default): every position of each forward call; "last": the last position of each call (the last ' +
      'prompt token, then every new token); or absolute prompt positions (negative from the end of the prompt)',
  ),
  index: z
    .array(z.number().int())
    .min(1)
    .max(100_000)
    .optional()
    .describe('Indices on the last axis (d_model, d_mlp or d_head) to touch. Omitted: all'),
};

export const InterventionSchema = z
  .discriminatedUnion('op', [
    z.object({ ...selector, op: z.literal('zero') }).strict(),
    z.object({ ...selector, op: z.literal('mean') }).strict(),
    z.object({ ...selector, op: z.literal('scale'), factor: z.number() }).strict(),
    z.object({ ...selector, op: z.literal('add'), vector: VectorSchema, scale: z.number().default(1) }).strict(),
    z.object({ ...selector, op: z.literal('set'), vector: VectorSchema }).strict(),
    z.object({ ...selector, op: z.literal('clamp'), min: z.number().optional(), max: z.number().optional() }).strict(),
    z.object({ ...selector, op: z.literal('project'), vector: VectorSchema, coeff: z.number().default(0) }).strict(),
    z
      .object({
        ...selector,
        op: z.literal('patch'),
        source: z.union([
          z.object({ prompt: PromptTextSchema }).strict(),
          z.object({ token_ids: TokenIdsSchema }).strict(),
        ]),
      })
      .strict(),
  ])
  .describe(
    'A selector (hook, heads, positions, index), an op and its value. zero; mean (over the positions of the ' +
      'forward call); scale (factor); add (vector x scale); set (vector); clamp ([min, max]); project ' +
      '(x - (1 - coeff)(x.u)u, u = vector/|vector|); patch (values of the same hook from a clean run of source)',
  )
  .meta({ id: 'Intervention' });

export type InterventionInput = z.infer<typeof InterventionSchema>;
/** An intervention as a client writes it (defaults left to the server). */
export type InterventionRequest = z.input<typeof InterventionSchema>;
export type InterventionOp = InterventionInput['op'];

export const InterventionsSchema = z
  .array(InterventionSchema)
  .max(10_000)
  .describe('Applied in order; at one hook, each sees the result of the previous one. Capped by MAX_INTERVENTIONS')
  .meta({ id: 'Interventions' });

/** One intervention as resolved against the model: what it touched. */
export const AppliedSchema = z
  .object({
    hook: z.string(),
    op: z.string(),
    heads: z.array(z.number().int()).nullable().describe('null: every head (or the hook has no head axis)'),
    positions: z
      .union([z.literal('all'), z.literal('last'), z.array(z.number().int())])
      .describe('absolute positions (resolved from negative ones), or "all" / "last"'),
    index: z.array(z.number().int()).nullable(),
    shape: z.array(z.number().int()).describe('shape of the selection at the prompt: [positions, (heads,) last axis]'),
    values: z.number().int().describe('values touched at the prompt (product of shape)'),
  })
  .meta({ id: 'AppliedIntervention' });
export type Applied = z.infer<typeof AppliedSchema>;

/** What /trace measures at the last position, baseline vs intervened. */
export const MetricSchema = z
  .discriminatedUnion('kind', [
    z
      .object({
        kind: z.literal('logit_diff'),
        tokens: z.tuple([z.string().min(1).max(200), z.string().min(1).max(200)]),
      })
      .strict(),
    z.object({ kind: z.literal('prob'), token: z.string().min(1).max(200) }).strict(),
    z.object({ kind: z.literal('logprob'), token: z.string().min(1).max(200) }).strict(),
    z.object({ kind: z.literal('kl') }).strict(),
  ])
  .describe(
    'logit_diff: logit(tokens[0]) - logit(tokens[1]); prob / logprob of token; kl: KL(baseline || intervened) of the ' +
      'next-token distributions. Each token text must be one token of the model. Measured at the last prompt position.',
  )
  .meta({ id: 'InterventionMetric' });
export type Metric = z.infer<typeof MetricSchema>;

export const MetricsSchema = z
  .object({
    kind: z.string(),
    token_ids: z.array(z.number().int()).describe('The metric tokens as ids ([] for kl)'),
    baseline: z.number().describe('On the clean run (kl: 0)'),
    intervened: z.number(),
    delta: z.number().describe('intervened - baseline'),
  })
  .meta({ id: 'InterventionMetrics' });

export const HookDeltaSchema = z
  .object({
    hook: z.string(),
    l2_norm: z.number().describe('|intervened - baseline| over the selected positions'),
    max_abs: z.number().describe('max |intervened - baseline| over finite entries'),
    baseline_l2_norm: z.number(),
  })
  .meta({ id: 'HookDelta' });
