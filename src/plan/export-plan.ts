// POST /trace as a file, as a plan: the one request sequence plus what a file cannot hold and its byte limit.
import type { ModelDims } from '../arch/model-dims.js';
import type { AppConfig } from '../config.js';
import { badRequest, payloadTooLarge } from '../errors/problem-error.js';
import type { ModelRegistry } from '../plugins/model-registry.js';
import type { TraceRequest } from '../schemas/trace.js';
import { planRequest, type RequestPlan } from './request-plan.js';
import { countReturnedValues } from './value-budget.js';

/** Tensor bytes of an export (float32 values of every selected hook over the selected positions). */
export function exportTensorBytes(
  hooks: readonly string[],
  dims: ModelDims,
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

export function planExport(
  req: TraceRequest,
  registry: Pick<ModelRegistry, 'resolve' | 'defaultName'>,
  config: Pick<AppConfig, 'MAX_NEW_TOKENS' | 'MAX_INTERVENTIONS' | 'EXPORT_MAX_BYTES'>,
): RequestPlan {
  return planRequest(
    {
      model: req.model,
      prompt: req.prompt,
      token_ids: req.token_ids,
      maxNewTokens: req.max_new_tokens,
      hooks: req.hooks,
      positions: req.positions,
      detail: 'full',
      interventions: req.interventions,
    },
    registry,
    config,
    {
      afterTokens: () => {
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
      },
      beforeEdits: (p) =>
        assertExportWithinLimit(
          exportTensorBytes(p.hooks, p.dims, p.positions, p.promptIds.length),
          config.EXPORT_MAX_BYTES,
        ),
    },
  );
}
