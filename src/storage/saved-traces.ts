// Saving, reading back and verifying a trace: the JSON reply and the float32 tensors of one request, with its recipe.
import type { AppConfig } from '../config.js';
import { readSafetensors, safetensorsParts } from '../checkpoint/safetensors.js';
import { ProblemError } from '../errors/problem-error.js';
import { runExport } from '../export/run-export.js';
import { softwareVersions, type TraceRecipe } from '../export/trace-tensors.js';
import type { ModelRegistry } from '../plugins/model-registry.js';
import type { TraceRequest } from '../schemas/trace.js';
import type { SavedTraceRecipe, Verification } from '../schemas/traces.js';
import { runTrace } from '../trace/run-trace.js';
import { compareValues, VERIFY_TOLERANCE } from './compare-tensors.js';
import type { SavedTrace, TraceStore } from './trace-store.js';

const PREVIEW_CHARS = 120;
const MAX_LISTED_MISMATCHES = 20;

/** The tensors of a saved trace are the prompt's forward pass with the request's hooks, positions and interventions. */
function tensorRequest(req: TraceRequest): TraceRequest {
  return { ...req, max_new_tokens: 0, compare: false, metric: undefined, attribution: false, format: 'safetensors' };
}

/** The request a verification reruns: the stored token ids, exact hooks and positions, the stored edits. */
function recipeRequest(recipe: SavedTraceRecipe): TraceRequest {
  const req = tensorRequest(recipe.request as TraceRequest);
  return { ...req, prompt: undefined, token_ids: recipe.token_ids, hooks: recipe.hooks, positions: recipe.positions };
}

function preview(req: TraceRequest, nTokens: number): string {
  if (req.prompt !== undefined)
    return req.prompt.length > PREVIEW_CHARS ? `${req.prompt.slice(0, PREVIEW_CHARS)}…` : req.prompt;
  return `token_ids (${nTokens})`;
}

/** Run the request as /trace does (the JSON reply) and as an export (the tensors), then store both with the recipe. */
export async function saveTrace(req: TraceRequest, registry: ModelRegistry, config: AppConfig, store: TraceStore) {
  const result = await runTrace({ ...req, format: undefined }, registry, config);
  const exp = await runExport(tensorRequest(req), registry, config);
  // The recipe is the plan as it ran: exact hook names and absolute positions, so a rerun does not depend on how
  // globs or "last" expand later; the request (interventions included) as received, with its defaults.
  const recipe: SavedTraceRecipe = {
    ...exp.recipe,
    request: { ...req, format: undefined },
    hooks: [...exp.plan.hooks],
    positions: [...exp.plan.positions],
    interventions_hash: result.interventions_hash,
    versions: softwareVersions(),
  };
  const parts = safetensorsParts(exp.tensors, exp.metadata);
  const saved = await store.put({
    model: recipe.model,
    weightsSha256: recipe.weights_sha256,
    nTokens: recipe.token_ids.length,
    preview: preview(req, recipe.token_ids.length),
    recipe,
    result,
    tensors: parts,
  });
  return { ...saved, recipe, tensor_names: exp.tensors.map((t) => t.name), tensor_bytes: parts.byteLength };
}

/** Rerun the recipe on this server and compare every stored tensor; a changed model is a mismatch, never an error. */
export async function verifyTrace(
  saved: SavedTrace,
  registry: ModelRegistry,
  config: AppConfig,
  store: TraceStore,
): Promise<Verification> {
  const recipe = saved.recipe as SavedTraceRecipe;
  const tolerance = { ...VERIFY_TOLERANCE };
  let fresh: { recipe: TraceRecipe; tensors: { name: string; data: Float32Array; shape: readonly number[] }[] };
  try {
    fresh = await runExport(recipeRequest(recipe), registry, config);
  } catch (err) {
    if (!(err instanceof ProblemError)) throw err;
    return {
      match: false,
      reason: 'not_recomputable',
      detail: `The recipe cannot be rerun on this server (${err.code}): ${err.detail}`,
      weights: { stored: recipe.weights_sha256, current: null, match: false },
      tensors: { compared: 0, mismatched: 0, max_abs_diff: null, differing: [] },
      tolerance,
    };
  }
  const stored = await readSafetensors(store.tensorPath(saved.id));
  const storedNames = stored.tensors.map((t) => t.name);
  const differing: Verification['tensors']['differing'] = [];
  let maxAbs = 0;
  for (const t of fresh.tensors) {
    const info = stored.tensors.find((s) => s.name === t.name);
    if (!info || info.shape.join() !== t.shape.join()) {
      differing.push({ name: t.name, max_abs_diff: null, values_outside: t.data.length });
      continue;
    }
    const d = compareValues(await stored.readFloat32(t.name), t.data, tolerance);
    maxAbs = Math.max(maxAbs, d.maxAbsDiff);
    if (d.outside > 0) differing.push({ name: t.name, max_abs_diff: d.maxAbsDiff, values_outside: d.outside });
  }
  for (const name of storedNames) {
    if (!fresh.tensors.some((t) => t.name === name)) differing.push({ name, max_abs_diff: null, values_outside: 0 });
  }
  const weightsMatch = fresh.recipe.weights_sha256 === recipe.weights_sha256;
  const match = differing.length === 0;
  const n = fresh.tensors.length;
  const largest = maxAbs.toExponential(2);
  const detail = match
    ? `All ${n} stored tensors match a fresh run of the recipe (largest difference ${largest}).`
    : weightsMatch
      ? `${differing.length} of ${n} tensors differ from a fresh run on the same weights (largest difference ${largest}).`
      : `The weights of ${recipe.model} changed since this trace was saved (sha256 ${recipe.weights_sha256.slice(0, 12)}… ` +
        `then, ${fresh.recipe.weights_sha256.slice(0, 12)}… now): ${differing.length} of ${n} tensors differ ` +
        `(largest difference ${largest}).`;
  return {
    match,
    reason: match ? 'match' : weightsMatch ? 'values_differ' : 'weights_changed',
    detail,
    weights: { stored: recipe.weights_sha256, current: fresh.recipe.weights_sha256, match: weightsMatch },
    tensors: {
      compared: n,
      mismatched: differing.length,
      max_abs_diff: maxAbs,
      differing: differing.slice(0, MAX_LISTED_MISMATCHES),
    },
    tolerance,
  };
}
