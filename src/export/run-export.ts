// POST /trace as a file: the export plan (src/plan/export-plan.ts), one forward pass, tensors laid out.
import type { AppConfig } from '../config.js';
import type { ModelRegistry } from '../plugins/model-registry.js';
import type { TraceRequest } from '../schemas/trace.js';
import { safetensorsParts, type Float32Tensor } from '../checkpoint/safetensors.js';
import { runPatchSources } from '../interventions/patch.js';
import { planExport } from '../plan/export-plan.js';
import type { RequestPlan } from '../plan/request-plan.js';
import { familyOf } from '../arch/model-dims.js';
import { parseHookName } from '../hooks/catalogue.js';
import { npzParts } from './npz.js';
import { exportMetadata, traceTensors, type TraceRecipe } from './trace-tensors.js';
import { weightsSha256 } from './weights-hash.js';

export type ExportFormat = 'safetensors' | 'npz';

export const EXPORT_MEDIA_TYPES: Readonly<Record<ExportFormat, string>> = {
  safetensors: 'application/vnd.safetensors',
  npz: 'application/x-npz',
};

/** The body's `format` wins; otherwise an Accept header naming an export media type; otherwise JSON. */
export function requestedFormat(format: TraceRequest['format'], accept: string | undefined): 'json' | ExportFormat {
  if (format) return format;
  const a = (accept ?? '').toLowerCase();
  if (a.includes(EXPORT_MEDIA_TYPES.safetensors)) return 'safetensors';
  if (a.includes(EXPORT_MEDIA_TYPES.npz)) return 'npz';
  return 'json';
}

export interface TraceExport {
  recipe: TraceRecipe;
  tensors: Float32Tensor[];
  metadata: Record<string, string>;
  runMs: number;
  /** The validated plan the tensors were computed from (exact hooks, positions, resolved edits). */
  plan: RequestPlan;
}

/** Validate, check EXPORT_MAX_BYTES before running, run once, and return the tensors with their recipe. */
export async function runExport(req: TraceRequest, registry: ModelRegistry, config: AppConfig): Promise<TraceExport> {
  const plan = planExport(req, registry, config);
  const { info, dims, hooks, positions } = plan;
  const ids = [...plan.promptIds];
  const runtime = await registry.get(info.name);
  const weights = weightsSha256(info.dir);
  const interventions = await runPatchSources(runtime, plan.interventions);
  // [T] ids -> activations over [T, ...] + logits [T, d_vocab], with the edits in force
  const result = await runtime.forward({
    tokenIds: ids,
    hooks: hooks.filter((h) => !parseHookName(h, dims.nLayer, familyOf(dims))?.site.logits),
    interventions,
  });
  runtime.release?.(result.present);
  const recipe: TraceRecipe = { model: info.name, weights_sha256: await weights, token_ids: ids, request: req };
  const tensors = traceTensors(result, hooks, positions, dims);
  return { recipe, tensors, metadata: exportMetadata(recipe), runMs: result.runMs, plan };
}

/** The file's chunks in the requested format. */
export function exportParts(exp: Pick<TraceExport, 'tensors' | 'metadata'>, format: ExportFormat) {
  return format === 'npz' ? npzParts(exp.tensors, exp.metadata) : safetensorsParts(exp.tensors, exp.metadata);
}
