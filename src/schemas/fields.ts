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
