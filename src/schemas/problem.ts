// The problem+json error body every route returns on failure.
import { z } from 'zod';

export const ProblemSchema = z
  .object({
    type: z.string().describe('URI reference naming the problem type (about:blank or /problems/<code>)'),
    title: z.string().describe('Short summary of the problem class'),
    status: z.number().int().describe('HTTP status code'),
    code: z.string().describe('Stable machine-readable error code, e.g. unknown_model'),
    detail: z.string().describe('A sentence a person understands'),
    instance: z.string().optional().describe('The request path'),
    request_id: z.string().optional(),
  })
  .catchall(z.unknown())
  .meta({ id: 'Problem' });

export type Problem = z.infer<typeof ProblemSchema>;
