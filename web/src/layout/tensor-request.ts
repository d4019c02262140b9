// Which hook a shape-flow stage shows, and the POST /trace body that fetches its values for one step of a run.

export interface StageRef {
  id: string;
  layer: number | null;
  output: { name: string; shape: readonly number[] };
}

/** What to fetch for a stage: one hook at the step's positions, or only the last one (the flow's "last row"). */
export interface StageHook {
  hook: string;
  /** true: only the step's last position (last row, logits). */
  lastOnly: boolean;
}

const HOOK =
  /^(hook_embed|hook_pos_embed|blocks\.\d+\.(hook_\w+|ln[12]\.hook_\w+|attn\.hook_\w+|mlp\.hook_\w+)|ln_final\.hook_\w+|logits)$/;

/**
 * The TransformerLens hook that holds a stage's output, moved to `layer` for block stages (the flow draws one
 * layer for the whole group); null for stages with no activation (tokenize).
 * Concatenating heads only reshapes hook_z; the last row is ln_final's last position; the unembedding and the
 * pick of the next token both read the logits at the last position.
 */
export function hookForStage(stage: StageRef, layer: number): StageHook | null {
  const atLayer = (name: string) => name.replace(/^blocks\.\d+\./, `blocks.${layer}.`);
  if (stage.id === 'tokenize') return null;
  if (stage.id === 'last_row') return { hook: 'ln_final.hook_normalized', lastOnly: true };
  if (stage.id === 'unembed' || stage.id === 'next_token') return { hook: 'logits', lastOnly: true };
  if (stage.id.endsWith('.attn.concat'))
    return { hook: atLayer(stage.output.name.replace(/z_concat$/, 'hook_z')), lastOnly: false };
  const name = stage.layer === null ? stage.output.name : atLayer(stage.output.name);
  return HOOK.test(name) ? { hook: name, lastOnly: false } : null;
}

export interface StepRef {
  /** Absolute positions the step computed (prefill: the summarised prompt positions; decode: the new token). */
  positions: readonly number[];
}

export interface TraceBody {
  model: string;
  token_ids: number[];
  hooks: string[];
  positions: number[];
  detail: 'full';
  logit_lens: false;
  top_k: number;
  histogram_bins: number;
}

/**
 * The /trace request that recomputes one step's tensor: the sequence up to the step's last position (prompt then the
 * tokens generated before it), that one hook, the step's positions, raw values. Recomputing the whole prefix gives
 * the same numbers the step computed with its KV cache (the cache holds exactly these keys and values).
 */
export function traceBodyFor(model: string, sequenceIds: readonly number[], step: StepRef, sh: StageHook): TraceBody {
  const last = Math.max(...step.positions);
  const positions = sh.lastOnly ? [last] : [...step.positions];
  return {
    model,
    token_ids: sequenceIds.slice(0, last + 1),
    hooks: [sh.hook],
    positions,
    detail: 'full',
    logit_lens: false,
    top_k: 1,
    histogram_bins: 1,
  };
}
