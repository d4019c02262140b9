// A forward pass -> the tensors an export carries: one float32 tensor per requested hook, sliced like the JSON reply.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Float32Tensor } from '../checkpoint/safetensors.js';
import { PROJECT_ROOT } from '../config.js';
import { parseHookName } from '../hooks/catalogue.js';
import { familyOf, type ModelDims } from '../arch/model-dims.js';
import type { ForwardResult } from '../runtime/types.js';
import { sliceHook } from '../decode/summarize-hook.js';

/** Every selected hook (`logits` included when selected) over the selected positions: shapes equal the JSON `shape`. */
export function traceTensors(
  result: ForwardResult,
  hooks: readonly string[],
  positions: readonly number[],
  dims: ModelDims,
): Float32Tensor[] {
  return hooks.map((name) => {
    const parsed = parseHookName(name, dims.nLayer, familyOf(dims));
    const act = parsed?.site.logits ? result.logits : result.activations.get(name);
    if (!parsed || !act) throw new Error(`forward() did not return ${name}`);
    // e.g. pattern [head, query_pos, key_pos] -> [head, n_selected, key_pos] (a view when all positions are kept)
    const slice = sliceHook(act, parsed.site, { positions, offset: 0, bins: 1, full: true });
    return { name, shape: slice.dims, data: slice.data };
  });
}

/** What produced an export: enough to recompute it and to tell whether it still matches. */
export interface TraceRecipe {
  model: string;
  weights_sha256: string;
  token_ids: number[];
  /** The validated request as received (every field it has, interventions included). */
  request: unknown;
}

let versions: Record<string, string> | undefined;
/** tensortrace, onnxruntime-node and Node versions (read once). */
export function softwareVersions(): Record<string, string> {
  if (!versions) {
    const read = (file: string) => (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
    let ort = 'unknown';
    try {
      ort = read(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
    } catch {
      // a bundled build without the package file
    }
    versions = {
      tensortrace: read(path.join(PROJECT_ROOT, 'package.json')),
      'onnxruntime-node': ort,
      node: process.version,
    };
  }
  return versions;
}

/** safetensors `__metadata__` (string values only, as the format requires). */
export function exportMetadata(recipe: TraceRecipe): Record<string, string> {
  return {
    format: 'tensortrace.trace/1',
    model: recipe.model,
    weights_sha256: recipe.weights_sha256,
    token_ids: JSON.stringify(recipe.token_ids),
    request: JSON.stringify(recipe.request),
    versions: JSON.stringify(softwareVersions()),
    note:
      'Raw float32 activations under TransformerLens hook names, batch axis dropped, positions as requested; ' +
      'values match TransformerLens HookedTransformer.from_pretrained_no_processing with prepend_bos=False.',
  };
}
