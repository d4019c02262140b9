// Request fields shared by /trace, the stream and interventions (one definition, no import cycles).
import { z } from 'zod';

export const PositionsSchema = z
  .union([
    z.literal('last'),
    z.literal('all'),
    z.array(z.number().int().min(-1_000_000).max(1_000_000)).min(1).max(4096),
  ])
  .describe(
    '"all" (default), "last", or a list of token positions; negative positions count from the end (-1 = last). ' +
      'Duplicates are removed and positions are returned in ascending order.',
  )
  .meta({ id: 'TracePositions' });

export const PromptTextSchema = z.string().max(100_000);
export const TokenIdsSchema = z.array(z.number().int()).max(100_000);

/**
 * Positions a reply summarises (trace positions, lens_positions, the stream's prefill_positions): the same forms plus
 * {"last": n}, the last n positions clipped to the prompt, so a client need not know the token count before sending.
 */
export const SummaryPositionsSchema = z
  .union([
    PositionsSchema,
    z.object({ last: z.number().int().min(1).max(1_000_000).describe('How many positions, from the end') }).strict(),
  ])
  .describe(
    '"all", "last", a list of token positions (negative from the end; duplicates removed, ascending), or ' +
      '{"last": n}: the last n positions, clipped to the prompt (a 4-token prompt with {"last": 64} gives 0..3).',
  )
  .meta({ id: 'SummaryPositions' });
