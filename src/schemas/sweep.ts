// POST /sweep (and the stream's `sweep` message): a grid of single interventions answered in one request.
import { z } from 'zod';
import { PromptTextSchema, TokenIdsSchema } from './fields.js';
import { MetricSchema } from './interventions.js';
import { ModelNameSchema, TokenSchema } from './trace.js';

/** Hook sites a patch sweep can edit (catalogue site names). */
export const PATCH_SITES = [
  'hook_resid_pre',
  'hook_attn_out',
  'hook_mlp_out',
  'hook_resid_post',
  'attn.hook_z',
] as const;
export type PatchSite = (typeof PATCH_SITES)[number];

const LayersSchema = z
  .array(z.number().int())
  .min(1)
  .max(1024)
  .optional()
  .describe('Layers to sweep (rows of the grid); omitted: every layer. Duplicates dropped, ascending');

export const SweepSpecSchema = z
  .discriminatedUnion('kind', [
    z
      .object({
        kind: z.literal('ablate_heads'),
        op: z
          .enum(['zero', 'mean'])
          .default('zero')
          .describe("zero: the head's z set to 0; mean: to its mean over positions"),
        layers: LayersSchema,
      })
      .strict(),
    z
      .object({
        kind: z.literal('patch'),
        hook: z.enum(PATCH_SITES).describe('The hook site patched in each layer'),
        over: z
          .union([
            z.tuple([z.literal('layer'), z.literal('position')]),
            z.tuple([z.literal('layer'), z.literal('head')]),
          ])
          .default(['layer', 'position'])
          .describe(
            '["layer", "position"]: one position per cell; ["layer", "head"] (attn.hook_z): one head, every position',
          ),
        direction: z
          .enum(['denoising', 'noising'])
          .default('denoising')
          .describe(
            'denoising: clean values patched into the corrupted run; noising: corrupted values into the clean run',
          ),
        layers: LayersSchema,
      })
      .strict(),
  ])
  .describe(
    'ablate_heads: each cell zeroes (or mean-ablates) one head of attn.hook_z at every position -> [layer, head]. ' +
      'patch: each cell patches one position (or one head of attn.hook_z) of one layer from the other prompt -> ' +
      '[layer, position] or [layer, head]',
  )
  .meta({ id: 'SweepSpec' });
export type SweepSpec = z.infer<typeof SweepSpecSchema>;

export const SweepRequestSchema = z
  .object({
    model: ModelNameSchema.optional().describe('Runnable model name; defaults to the server default model'),
    prompt: PromptTextSchema.optional().describe('The clean prompt. Exactly one of prompt / token_ids'),
    token_ids: TokenIdsSchema.optional().describe('The clean prompt as token ids'),
    corrupted: PromptTextSchema.optional().describe(
      'The corrupted prompt (patch sweeps; same token count as the clean one)',
    ),
    corrupted_token_ids: TokenIdsSchema.optional().describe('The corrupted prompt as token ids'),
    metric: MetricSchema,
    sweep: SweepSpecSchema,
  })
  .strict()
  .meta({
    id: 'SweepRequest',
    example: {
      prompt: 'The capital of France is',
      metric: { kind: 'prob', token: ' Paris' },
      sweep: { kind: 'ablate_heads', op: 'zero' },
    },
  });
export type SweepRequest = z.infer<typeof SweepRequestSchema>;

const AxisSchema = z
  .object({
    name: z.enum(['layer', 'head', 'position']),
    values: z.array(z.number().int()).describe('Layer numbers, head numbers or positions'),
    labels: z.array(z.string()).describe("As text: the numbers, or each position's token of the clean prompt"),
  })
  .meta({ id: 'SweepAxis' });

export const SweepResponseSchema = z
  .object({
    model: z.string(),
    kind: z.enum(['ablate_heads', 'patch']),
    hook: z.string().describe('The hook site each cell edits (attn.hook_z for ablate_heads)'),
    op: z.string().describe('zero | mean | patch'),
    direction: z.enum(['denoising', 'noising']).nullable(),
    metric: z.object({ kind: z.string(), token_ids: z.array(z.number().int()) }),
    tokens: z.array(TokenSchema).describe('The clean prompt'),
    corrupted_tokens: z.array(TokenSchema).nullable(),
    axes: z.tuple([AxisSchema, AxisSchema]).describe('Rows (layers), then columns (heads or positions)'),
    values: z
      .array(z.array(z.number()))
      .describe('[layer][column]: the metric with that one edit, at the last position'),
    clean: z.number().describe('The metric of the clean (unablated) run'),
    corrupted: z.number().nullable().describe('The metric of the corrupted run (patch sweeps)'),
    normalized: z
      .array(z.array(z.number()))
      .nullable()
      .describe('(value - corrupted) / (clean - corrupted); null for ablation or when clean = corrupted'),
    cells: z.number().int(),
    computed: z.number().int().describe('Cells run on the batch axis; the others leave the run unchanged'),
    timings: z.object({
      base_ms: z.number(),
      cells_ms: z.number(),
      unembed_ms: z.number(),
      total_ms: z.number(),
    }),
  })
  .meta({ id: 'SweepResponse' });
export type SweepResponse = z.infer<typeof SweepResponseSchema>;
