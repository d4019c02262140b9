// Direct logit attribution on /trace: request option and reply (validation, TS types and OpenAPI come from here).
import { z } from 'zod';

export const ATTRIBUTION_TOP_MAX = 100;

export const TokenRefSchema = z
  .union([z.string().min(1).max(200), z.number().int()])
  .describe('A token: its text (must be exactly one GPT-2 token, e.g. " Paris") or its id')
  .meta({ id: 'TokenRef' });

export const AttributionRequestSchema = z
  .union([
    z.boolean(),
    z
      .object({
        tokens: z
          .array(TokenRefSchema)
          .min(1)
          .max(2)
          .optional()
          .describe('[a]: the logit of a; [a, b]: logit(a) - logit(b). Omitted: the top-1 next token.'),
        top: z.number().int().min(1).max(ATTRIBUTION_TOP_MAX).default(10).describe('Top contributors listed'),
      })
      .strict(),
  ])
  .describe(
    'Direct logit attribution at the last position: true (the top-1 next token) or {tokens, top}. ' +
      'Each part goes through ln_final with its scale frozen (TransformerLens apply_ln_to_stack).',
  )
  .meta({ id: 'AttributionRequest' });

export type AttributionRequest = z.infer<typeof AttributionRequestSchema>;

const ComponentSchema = z
  .object({
    kind: z.enum(['embed', 'pos_embed', 'head', 'attn_bias', 'mlp', 'mlp_bias']),
    layer: z.number().int().nullable(),
    head: z.number().int().nullable(),
    label: z.string().describe('embed, pos_embed, L3H2, L3 attn bias, L3 MLP, L3 MLP bias'),
    value: z.number(),
  })
  .meta({ id: 'AttributionComponent' });

export const AttributionSchema = z
  .object({
    position: z.number().int(),
    target: z.object({
      kind: z.enum(['logit', 'logit_diff']),
      tokens: z.array(z.object({ id: z.number().int(), text: z.string() })),
    }),
    logit: z.number().describe("The model's logit (or logit difference) at the position"),
    ln_final_bias: z.number().describe('b_ln_final · W_U direction: the term no residual piece writes'),
    sum: z.number().describe('Sum of every part; equals logit - ln_final_bias up to float32 rounding'),
    final_scale: z.number().describe('ln_final scale sqrt(var + eps) at the position, frozen for every part'),
    embed: z.number(),
    pos_embed: z.number(),
    heads: z.array(z.array(z.number())).describe('[layer][head]: z_h @ W_O[h] through the frozen ln_final'),
    attn_bias: z.array(z.number()).describe('[layer]: b_O of each attention layer'),
    mlp: z.array(z.number()).describe('[layer]: hook_mlp_out minus its output bias'),
    mlp_bias: z.array(z.number()).describe('[layer]: b_out of each MLP'),
    top: z.array(ComponentSchema).describe('Largest |value| first'),
  })
  .meta({ id: 'Attribution' });

export type Attribution = z.infer<typeof AttributionSchema>;
