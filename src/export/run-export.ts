// POST /trace as a file: validate like the JSON trace, check the export byte limit, one forward pass, tensors laid out.
import { badRequest, payloadTooLarge } from '../errors/problem-error.js';
import type { AppConfig } from '../config.js';
import type { ModelRegistry } from '../plugins/model-registry.js';
import type { TraceRequest } from '../schemas/trace.js';
import { safetensorsParts, type Float32Tensor } from '../checkpoint/safetensors.js';
import { selectModelHooks } from '../trace/hook-select.js';
import { GPT2_TOKENIZER } from '../tokenizer/model-tokenizer.js';
import { runPatchSources } from '../interventions/patch.js';
import { resolveInterventions } from '../interventions/resolve.js';
import { resolvePositions } from '../trace/positions.js';
import { checkLengths, promptTokens } from '../trace/run-trace.js';
import { countReturnedValues } from '../trace/value-budget.js';
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
}

/** Tensor bytes of an export (float32 values of every selected hook over the selected positions). */
export function exportTensorBytes(
  hooks: readonly string[],
  dims: Parameters<typeof countReturnedValues>[1],
  positions: readonly number[],
  nTokens: number,
): number {
  // full values minus the attention rows both counts carry
  return (
    (countReturnedValues(hooks, dims, positions, nTokens, true) -
      countReturnedValues(hooks, dims, positions, nTokens, false)) *
    4
  );
}

/** Validate, check EXPORT_MAX_BYTES before running, run once, and return the tensors with their recipe. */
export async function runExport(req: TraceRequest, registry: ModelRegistry, config: AppConfig): Promise<TraceExport> {
  const info = registry.resolve(req.model ?? registry.defaultName);
  const { dims } = info;
  const tok = info.tokenizer ?? GPT2_TOKENIZER;
  const ids = promptTokens(req, dims.dVocab, { model: info.name, nCtx: dims.nCtx }, tok);
  checkLengths(ids.length, req.max_new_tokens, info, config.MAX_NEW_TOKENS);
  if (req.max_new_tokens > 0) {
    throw badRequest(
      'export_with_generation',
      'An export holds the activations of the prompt\'s forward pass; send "max_new_tokens": 0 (the JSON trace gives a continuation).',
      { max_new_tokens: req.max_new_tokens },
    );
  }
  if (req.compare || req.metric !== undefined) {
    throw badRequest(
      'export_with_compare',
      'An export holds one run; "compare" and "metric" need the JSON trace (export the clean run without interventions instead).',
    );
  }
  const hooks = selectModelHooks(req.hooks, dims);
  const positions = resolvePositions(req.positions, ids.length);
  assertExportWithinLimit(exportTensorBytes(hooks, dims, positions, ids.length), config.EXPORT_MAX_BYTES);

  const resolved = resolveInterventions(req.interventions ?? [], {
    dims,
    promptLength: ids.length,
    max: config.MAX_INTERVENTIONS,
    encode: (t: string) => tok.encode(t),
  });
  const runtime = await registry.get(info.name);
  const weights = weightsSha256(info.dir);
  const interventions = await runPatchSources(runtime, resolved);
  // [T] ids -> activations over [T, ...] + logits [T, d_vocab], with the edits in force
  const result = await runtime.forward({ tokenIds: ids, hooks: hooks.filter((h) => h !== 'logits'), interventions });
  runtime.release?.(result.present);
  const recipe: TraceRecipe = { model: info.name, weights_sha256: await weights, token_ids: ids, request: req };
  const tensors = traceTensors(result, hooks, positions, dims);
  return { recipe, tensors, metadata: exportMetadata(recipe), runMs: result.runMs };
}

/** 413 `export_too_large` naming the size (checked before any forward pass). */
export function assertExportWithinLimit(bytes: number, cap: number): void {
  if (bytes <= cap) return;
  throw payloadTooLarge(
    'export_too_large',
    `This export would hold ${bytes.toLocaleString('en-US')} bytes of float32 tensors, over the server limit of ` +
      `${cap.toLocaleString('en-US')} bytes (EXPORT_MAX_BYTES). Select fewer hooks or positions.`,
    { bytes, max_bytes: cap },
  );
}

/** The file's chunks in the requested format. */
export function exportParts(exp: Pick<TraceExport, 'tensors' | 'metadata'>, format: ExportFormat) {
  return format === 'npz' ? npzParts(exp.tensors, exp.metadata) : safetensorsParts(exp.tensors, exp.metadata);
}
