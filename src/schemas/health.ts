// Liveness and readiness bodies.
import { z } from 'zod';

export const HealthSchema = z.object({ status: z.literal('ok'), uptime_s: z.number() }).meta({ id: 'Health' });

export const ReadySchema = z
  .object({
    status: z.enum(['ready', 'not_ready']),
    default_model: z.string(),
    runnable_models: z.array(z.string()),
    detail: z.string().optional(),
  })
  .meta({ id: 'Ready' });
