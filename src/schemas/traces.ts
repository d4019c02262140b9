// Saved traces (/traces): request, recipe, list, verification and reply schemas.
import { z } from 'zod';
import { TraceRequestSchema, TraceResponseSchema } from './trace.js';

export const TRACES_PAGE_MAX = 100;

export const SaveTraceRequestSchema = TraceRequestSchema.omit({ format: true })
  .strict()
  .meta({
    id: 'SaveTraceRequest',
    example: { prompt: 'The capital of France is', hooks: ['blocks.*.hook_resid_post'] },
  })
  .describe('The same fields as POST /trace (without format); the tensors are the selected hooks of the prompt pass');

export const TraceIdParams = z.object({
  id: z.string().min(1).max(64).describe('Saved-trace id (16 base64url characters)'),
});

export const TraceListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(TRACES_PAGE_MAX).default(20).describe('Traces per page, newest first'),
  cursor: z.coerce
    .number()
    .int()
    .min(1)
    .optional()
    .describe('The next_cursor of the previous page (traces saved before it)'),
});

export const TraceGetQuery = z.object({
  verify: z
    .enum(['true', 'false', '1', '0'])
    .optional()
    .transform((v) => v === 'true' || v === '1')
    .describe('Rerun the recipe and say whether the stored tensors still match'),
});

export const SavedTraceRecipeSchema = z
  .object({
    model: z.string(),
    weights_sha256: z.string().describe("sha256 of the model's model.safetensors when the trace was saved"),
    token_ids: z.array(z.number().int()),
    request: z
      .record(z.string(), z.unknown())
      .describe('The validated request, defaults filled in (interventions included)'),
    hooks: z.array(z.string()).describe('Exact hook names of the tensors, as the request plan expanded them'),
    positions: z
      .array(z.number().int())
      .describe('Absolute positions of the tensors, as the request plan resolved them'),
    interventions_hash: z
      .string()
      .nullable()
      .describe('sha256 of the resolved interventions, as in the /trace reply (null without)'),
    versions: z.record(z.string(), z.string()).describe('tensortrace, onnxruntime-node and Node versions'),
  })
  .meta({ id: 'SavedTraceRecipe' });
export type SavedTraceRecipe = z.infer<typeof SavedTraceRecipeSchema>;

export const SavedTraceSummarySchema = z
  .object({
    id: z.string(),
    created_at: z.string().describe('ISO 8601, UTC'),
    model: z.string(),
    weights_sha256: z.string(),
    n_tokens: z.number().int(),
    preview: z.string().describe('The first characters of the prompt'),
    tensor_bytes: z.number().int().describe('Size of the safetensors file'),
    total_bytes: z.number().int().describe('What the trace counts against TRACES_MAX_BYTES (file + stored JSON)'),
  })
  .meta({ id: 'SavedTraceSummary' });

const LinksSchema = z.object({
  self: z.string(),
  tensors: z.string().describe('GET: the tensors as safetensors'),
  share: z.string().describe('The page opened on this trace, without recomputing'),
});

export const SaveTraceResponseSchema = z
  .object({
    id: z.string(),
    created_at: z.string(),
    recipe: SavedTraceRecipeSchema,
    tensor_names: z.array(z.string()),
    tensor_bytes: z.number().int(),
    evicted: z.array(z.string()).describe('Ids of the oldest traces removed to stay within the store limits'),
    links: LinksSchema,
  })
  .meta({ id: 'SaveTraceResponse' });
export type SaveTraceResponse = z.infer<typeof SaveTraceResponseSchema>;

export const VerificationSchema = z
  .object({
    match: z.boolean().describe('Every stored tensor equals a fresh run within the tolerance'),
    reason: z.enum(['match', 'values_differ', 'weights_changed', 'not_recomputable']),
    detail: z.string(),
    weights: z.object({
      stored: z.string(),
      current: z.string().nullable().describe('null when the recipe could not be rerun'),
      match: z.boolean(),
    }),
    tensors: z.object({
      compared: z.number().int(),
      mismatched: z.number().int(),
      max_abs_diff: z.number().nullable(),
      differing: z
        .array(
          z.object({
            name: z.string(),
            max_abs_diff: z.number().nullable().describe('null when the tensor is missing or its shape changed'),
            values_outside: z.number().int(),
          }),
        )
        .describe('The first 20 differing tensors'),
    }),
    tolerance: z.object({ abs: z.number(), rel: z.number() }).describe('|stored - fresh| <= abs + rel·|fresh|'),
  })
  .meta({ id: 'TraceVerification' });
export type Verification = z.infer<typeof VerificationSchema>;

export const SavedTraceSchema = SavedTraceSummarySchema.extend({
  recipe: SavedTraceRecipeSchema,
  trace: TraceResponseSchema.describe('The JSON reply of POST /trace for the recipe, as it was when saved'),
  links: LinksSchema,
  verification: VerificationSchema.optional().describe('With ?verify=true'),
}).meta({ id: 'SavedTrace' });

export const SavedTraceListSchema = z
  .object({
    items: z.array(SavedTraceSummarySchema),
    next_cursor: z.number().int().nullable().describe('Pass as cursor for the next page; null on the last page'),
    total_count: z.number().int(),
    total_bytes: z.number().int(),
    limits: z.object({ max_count: z.number().int(), max_bytes: z.number().int() }),
  })
  .meta({ id: 'SavedTraceList' });
