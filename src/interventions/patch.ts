// Patch sources: each distinct source runs once, clean, fetching only the hooks patched from it.
import type { ModelRuntime } from '../runtime/types.js';
import type { ResolvedIntervention } from './types.js';

/** Fill `source` of every patch intervention (in place on copies; returns the new list). */
export async function runPatchSources(
  runtime: ModelRuntime,
  list: readonly ResolvedIntervention[],
): Promise<ResolvedIntervention[]> {
  const bySource = new Map<string, { ids: number[]; hooks: Set<string> }>();
  for (const r of list) {
    if (r.op !== 'patch' || !r.sourceIds) continue;
    const key = r.sourceIds.join(',');
    const entry = bySource.get(key) ?? { ids: r.sourceIds, hooks: new Set<string>() };
    entry.hooks.add(r.hook);
    bySource.set(key, entry);
  }
  const values = new Map<string, Map<string, Float32Array>>();
  for (const [key, { ids, hooks }] of bySource) {
    // [source_pos] -> each patched hook [source_pos, ...rest]
    const res = await runtime.forward({ tokenIds: ids, hooks: [...hooks] });
    runtime.release?.(res.present);
    values.set(key, new Map([...hooks].map((h) => [h, (res.activations.get(h) as { data: Float32Array }).data])));
  }
  return list.map((r) =>
    r.op === 'patch' && r.sourceIds ? { ...r, source: values.get(r.sourceIds.join(','))?.get(r.hook) ?? null } : r,
  );
}
