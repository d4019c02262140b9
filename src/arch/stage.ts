// Stage: one step of the shape flow, and a small builder that applies the batch axis and the FLOP convention.

export type Op =
  | 'tokenize'
  | 'lookup'
  | 'add'
  | 'norm'
  | 'matmul'
  | 'rope'
  | 'mask'
  | 'softmax'
  | 'concat'
  | 'gelu'
  | 'silu'
  | 'act'
  | 'topk'
  | 'combine'
  | 'slice'
  | 'argmax';

export interface TensorRef {
  name: string;
  shape: number[];
}

export interface Stage {
  id: string;
  name: string;
  /** Representative layer index (the first of its group); null outside the blocks. */
  layer: number | null;
  /** Which layer group the stage belongs to (see layer_groups); null outside the blocks. */
  layer_group: string | null;
  op: Op;
  /** Data tensors (drawn blue). */
  inputs: TensorRef[];
  /** Weight tensors (drawn grey). */
  weights: TensorRef[];
  output: TensorRef;
  /** FLOPs of this stage for the whole batch and, for per-head stages, all heads. */
  flops: number;
  /** Shapes are for one head; `heads` heads run the same computation. */
  per_head?: true;
  heads?: number;
  /** Per-head stages: the same step with all heads side by side. */
  all_heads?: { weights?: number[]; output: number[] };
  /** MoE routed experts: average tokens one expert processes (seq * top_k / n_experts, times batch). */
  tokens_per_expert?: number;
  note?: string;
}

export const FLOP_CONVENTION =
  'matmul [m, k] x [k, n] = 2*m*n*k (one multiply and one add per term); every elementwise step (add, bias, mask, activation, gating product, ' +
  'RoPE, each norm, softmax) = 1 FLOP per output element; lookups, concatenation, slicing and top-k selection = 0. ' +
  'Attention scores and the weighted sum are counted densely over [seq, seq] as an unfused implementation computes them (the causal or sliding mask does not reduce the count). ' +
  'Per-head stages report the FLOPs of all heads together; all figures include the batch.';

/** Stage context: layer placement and the batch size that prefixes data shapes. */
export interface StageCtx {
  batch: number;
  layer: number | null;
  group: string | null;
  prefix: string;
}

/** A data shape with the batch axis prepended when batch > 1 (batch 1 is shown as in the walk-through). */
export const data = (ctx: StageCtx, shape: number[]): number[] => (ctx.batch > 1 ? [ctx.batch, ...shape] : shape);

/** Elements of a data shape for the whole batch. */
export const elements = (ctx: StageCtx, shape: number[]): bigint =>
  BigInt(ctx.batch) * shape.reduce((a, b) => a * BigInt(b), 1n);

/** 2*m*n*k for [m, k] x [k, n], times batch and `times` (e.g. heads). */
export const matmulFlops = (ctx: StageCtx, m: number, k: number, n: number, times = 1): bigint =>
  2n * BigInt(ctx.batch) * BigInt(m) * BigInt(k) * BigInt(n) * BigInt(times);

export interface StageInput {
  key: string;
  name: string;
  op: Op;
  inputs?: TensorRef[];
  weights?: TensorRef[];
  output: TensorRef;
  flops: bigint;
  heads?: number;
  allHeads?: { weights?: number[]; output: number[] };
  tokensPerExpert?: number;
  note?: string;
}

/** Stage with its exact FLOPs (bigint) kept beside for exact totals. */
export interface BuiltStage {
  stage: Stage;
  flops: bigint;
}

export function stage(ctx: StageCtx, s: StageInput): BuiltStage {
  const out: Stage = {
    id: `${ctx.prefix}${s.key}`,
    name: s.name,
    layer: ctx.layer,
    layer_group: ctx.group,
    op: s.op,
    inputs: s.inputs ?? [],
    weights: s.weights ?? [],
    output: s.output,
    flops: Number(s.flops),
  };
  if (s.heads !== undefined) {
    out.per_head = true;
    out.heads = s.heads;
  }
  if (s.allHeads) out.all_heads = s.allHeads;
  if (s.tokensPerExpert !== undefined) out.tokens_per_expert = s.tokensPerExpert;
  if (s.note) out.note = s.note;
  return { stage: out, flops: s.flops };
}
