// Resolved interventions: plain data (structured-clone safe, so they cross into the model workers as they are).
// The request form lives in src/schemas/interventions.ts; resolve.ts turns one into the other.
import type { InterventionOp } from '../schemas/interventions.js';

/**
 * How an op is expressed in the graph, x being the hook's tensor for the new positions [pos, ...rest]:
 * - affine:  x * a + b                        (zero, scale, add, set, patch)
 * - clamp:   min(max(x, a), b)                (a = lower bound or -inf, b = upper bound or +inf)
 * - project: x - sum_last(x * a) * b          (a = u [last], b = (1 - coeff) u where selected, else 0)
 * - mean:    x * a + mean_pos(x) * b          (a = 0 / b = 1 where selected)
 * Unselected entries get the identity (a = 1, b = 0; bounds +-inf; b = 0), so they pass through bit for bit.
 */
export type EditKind = 'affine' | 'clamp' | 'project' | 'mean';

export const EDIT_KIND: Record<InterventionOp, EditKind> = {
  zero: 'affine',
  scale: 'affine',
  add: 'affine',
  set: 'affine',
  patch: 'affine',
  clamp: 'clamp',
  project: 'project',
  mean: 'mean',
};

/** The structure of one edit in the graph: which hook, which kind, the hook's axes after pos. */
export interface EditSlot {
  hook: string;
  kind: EditKind;
  /** Hook dims after the position axis, e.g. [head, d_head] or [d_model]. */
  rest: number[];
}

export interface ResolvedIntervention {
  hook: string;
  op: InterventionOp;
  rest: number[];
  /** Selected heads (ascending); null = every head, or the hook has no head axis. */
  heads: number[] | null;
  /** "all" / "last" of each forward call, or absolute positions (ascending, distinct). */
  positions: 'all' | 'last' | number[];
  /** Selected indices on the last axis (ascending); null = all. */
  index: number[] | null;
  /** scale: factor. */
  factor: number;
  /** add: vector * scale; set: vector; project: the unit direction u. Length = last axis. */
  vector: Float32Array | null;
  /** project: coeff. */
  coeff: number;
  /** clamp bounds (+-Infinity when omitted). */
  min: number;
  max: number;
  /** patch: the source's token ids, and once run, its clean activation at this hook [source_pos, ...rest]. */
  sourceIds: number[] | null;
  source: Float32Array | null;
}

export const slotOf = (r: ResolvedIntervention): EditSlot => ({ hook: r.hook, kind: EDIT_KIND[r.op], rest: r.rest });

/** The key of a graph variant: one session per distinct edit structure (the numbers are inputs). */
export const editKey = (slots: readonly EditSlot[]): string => slots.map((s) => `${s.hook}:${s.kind}`).join('|');

/** Graph input names of edit i. */
export const editInputA = (i: number) => `edit.${i}.a`;
export const editInputB = (i: number) => `edit.${i}.b`;
