// The architecture registry's file format (models/registry/*.json): one family per file, entries with published counts.
import { z } from 'zod';

export const PublishedSchema = z
  .object({
    total: z.number().int().positive(),
    exact: z.boolean(),
    active: z.number().int().positive().nullable(),
    tolerance: z.number().min(0).max(0.5).optional(),
    active_tolerance: z.number().min(0).max(0.5).optional(),
    /** Optional: which convention `active` follows; else the publisher's known habit is assumed. */
    active_convention: z.enum(['all', 'non_embedding']).optional(),
    total_with_extras: z.number().int().positive().nullable().optional(),
    extras_tolerance: z.number().min(0).max(0.5).optional(),
    extras_note: z.string().nullable().optional(),
    note: z.string().nullable().optional(),
  })
  .meta({ id: 'PublishedCount' });

export const RegistryEntrySchema = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'must be a lowercase id (letters, digits, . _ -)'),
  display_name: z.string().min(1),
  aliases: z.array(z.string().min(1)).default([]),
  released: z.string().nullable().optional(),
  source: z.object({ config: z.string(), params: z.string() }).partial().catchall(z.string()),
  published: PublishedSchema,
  config: z.record(z.string(), z.unknown()),
  library_defaults: z.record(z.string(), z.unknown()).optional(),
});
export type RegistryEntry = z.infer<typeof RegistryEntrySchema>;

export const RegistryFileSchema = z.object({ family: z.string().min(1), models: z.array(z.unknown()) });
