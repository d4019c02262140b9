// POST /tokenize: text -> the model's token ids and their texts.
import { z } from 'zod';
import { TokenizerKindSchema, TokenSchema } from './trace.js';

export const TokenizeRequestSchema = z
  .object({
    text: z.string().max(1_000_000).describe('Text to tokenize; may be empty'),
    model: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe('Runnable model whose tokenizer to use; defaults to the server default'),
  })
  .strict()
  .meta({ id: 'TokenizeRequest', example: { text: 'The capital of France is' } });

export const TokenizeResponseSchema = z
  .object({
    model: z.string(),
    ids: z.array(z.number().int()),
    tokens: z.array(TokenSchema).describe('Per token: id, its text (leading spaces kept), position'),
    count: z.number().int(),
    tokenizer: TokenizerKindSchema,
    bos_prepended: z.boolean().describe("true when the model's tokenizer put its BOS token in front of the text"),
  })
  .meta({ id: 'TokenizeResponse' });

export type TokenizeRequest = z.infer<typeof TokenizeRequestSchema>;
export type TokenizeResponse = z.infer<typeof TokenizeResponseSchema>;
