// Schemas for /models: HF config bodies (bounded) and the list/detail/params/shapes replies (registry files: src/arch/registry-format.ts).
import { z } from 'zod';
import { CONFIG_FIELDS, MAX_POSITIONS, type FieldBound } from '../arch/config-bounds.js';
import { SUPPORTED_MODEL_TYPES } from '../arch/spec.js';
import { MAX_BATCH } from '../arch/shapes.js';
import { PublishedSchema } from '../arch/registry-format.js';

// ---------- HF config.json (request bodies and registry entries) ----------

function fieldSchema(b: FieldBound) {
  switch (b.kind) {
    case 'int':
      return z.number().int().min(b.min).max(b.max);
    case 'number':
      return z.number().min(b.min).max(b.max);
    case 'bool':
      return z.boolean();
    case 'string':
      return z.string().max(200);
    case 'int[]':
      return z.array(z.number().int().min(0).max(b.max)).max(b.maxItems);
    case 'string[]':
      return z.array(z.string().max(100)).max(b.maxItems);
  }
}

const configShape = Object.fromEntries(Object.entries(CONFIG_FIELDS).map(([k, b]) => [k, fieldSchema(b).nullish()]));

/** A Hugging Face config.json: known architecture fields are type- and range-checked; other fields pass through. */
export const HfConfigSchema = z
  .looseObject(configShape)
  .describe(
    `The contents of a Hugging Face config.json. model_type must be one of: ${SUPPORTED_MODEL_TYPES.join(', ')}.`,
  )
  .meta({ id: 'HfConfig' });

// ---------- requests ----------

export const ModelNameParams = z.object({ name: z.string().min(1).max(200) });
export const ModelListQuery = z.object({ family: z.string().min(1).max(100).optional() });
export const ShapesQuery = z.object({
  seq_len: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_POSITIONS)
    .optional()
    .describe("Tokens per sequence; default min(1024, the model's max positions)"),
  batch: z.coerce.number().int().min(1).max(MAX_BATCH).optional().describe('Sequences per batch; default 1'),
});

// ---------- replies ----------

export const ModelSummarySchema = z
  .object({
    name: z.string(),
    display_name: z.string(),
    family: z.string(),
    model_type: z.string(),
    aliases: z.array(z.string()),
    released: z.string().nullable(),
    runnable: z.boolean().describe('A checkpoint of this model is loaded under MODELS_DIR and can be traced'),
    in_registry: z.boolean(),
    published: z.object({ total: z.number().nullable(), active: z.number().nullable() }),
    computed: z.object({
      total: z.number(),
      active: z.number().nullable(),
      active_non_embedding: z.number().nullable(),
    }),
  })
  .meta({ id: 'ModelSummary' });

export const ModelListSchema = z
  .object({ count: z.number().int(), models: z.array(ModelSummarySchema) })
  .meta({ id: 'ModelList' });

export const ModelDetailSchema = ModelSummarySchema.extend({
  config: z.record(z.string(), z.unknown()),
  library_defaults: z.record(z.string(), z.unknown()),
  source: z.record(z.string(), z.string()),
  published_detail: PublishedSchema.nullable(),
}).meta({ id: 'ModelDetail' });

const TensorSchema = z.object({
  name: z.string(),
  shape: z.array(z.number().int()),
  count: z.number().int(),
  component: z.string(),
  role: z.enum(['weight', 'bias', 'norm', 'other']),
  note: z.string().optional(),
});

const MemorySchema = z.object({
  dtype: z.enum(['fp32', 'bf16', 'int8', 'int4']),
  bytes_per_param: z.number(),
  bytes: z.number(),
  gib: z.number(),
});

export const ArchSpecSchema = z
  .record(z.string(), z.unknown())
  .describe('The normalised architecture (ArchSpec) the counts were made from')
  .meta({ id: 'ArchSpec' });

export const ParamsReportSchema = z
  .object({
    model: z.string().nullable(),
    model_type: z.string(),
    family: z.string(),
    total: z.number().int(),
    active: z.number().int().nullable(),
    active_non_embedding: z.number().int().nullable(),
    conventions: z.object({
      total: z.number().int(),
      non_embedding: z.number().int(),
      excluding_embeddings: z.number().int(),
      hidden_only: z.number().int(),
    }),
    breakdown: z.record(z.string(), z.number().int()),
    tied_embeddings: z.boolean(),
    global_tensors: z.array(TensorSchema),
    layer_kinds: z.array(
      z.object({
        id: z.string(),
        mlp: z.enum(['dense', 'moe']),
        layers: z.string(),
        count: z.number().int(),
        params_per_layer: z.number().int(),
        active_per_layer: z.number().int(),
        tensors: z.array(TensorSchema),
      }),
    ),
    mtp: z
      .object({
        modules: z.number().int(),
        params: z.number().int(),
        params_with_shared_copies: z.number().int(),
        total_with_mtp: z.number().int(),
        tensors: z.array(TensorSchema),
      })
      .nullable(),
    memory: z.array(MemorySchema),
    notes: z.array(z.string()),
    spec: ArchSpecSchema,
  })
  .meta({ id: 'ParamsReport' });

const TensorRefSchema = z.object({ name: z.string(), shape: z.array(z.number().int()) });

export const StageSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    layer: z.number().int().nullable(),
    layer_group: z.string().nullable(),
    op: z.string(),
    inputs: z.array(TensorRefSchema),
    weights: z.array(TensorRefSchema),
    output: TensorRefSchema,
    flops: z.number(),
    per_head: z.literal(true).optional(),
    heads: z.number().int().optional(),
    all_heads: z
      .object({ weights: z.array(z.number().int()).optional(), output: z.array(z.number().int()) })
      .optional(),
    tokens_per_expert: z.number().optional(),
    note: z.string().optional(),
  })
  .meta({ id: 'ShapeStage' });

export const ShapesReportSchema = z
  .object({
    model: z.string().nullable(),
    model_type: z.string(),
    seq_len: z.number().int(),
    batch: z.number().int(),
    max_positions: z.number().int(),
    layer_groups: z.array(
      z.object({
        id: z.string(),
        layers: z.string(),
        count: z.number().int(),
        representative: z.number().int(),
        mlp: z.enum(['dense', 'moe']),
        attention: z.enum(['global', 'sliding']),
        sliding_window: z.number().int().nullable(),
        flops_per_layer: z.number(),
      }),
    ),
    stages: z.array(StageSchema),
    totals: z.object({
      forward_flops: z.number(),
      forward_flops_exact: z.string(),
      matmul_flops: z.number(),
      flops_per_token: z.number(),
      forward_flops_all_positions_logits: z.number(),
    }),
    flop_convention: z.string(),
  })
  .meta({ id: 'ShapesReport' });
