// Shape-flow geometry: one stage (e.g. [5, 768] x [768, 64] = [5, 64]) as proportional boxes in a row.
import { DEFAULT_DIM_SCALE, dimToPx, type DimScaleOptions } from './scale.js';
import { formatDims } from './format.js';

export type OperandRole = 'data' | 'weight';

export interface FlowOperand {
  dims: readonly number[];
  role: OperandRole;
  /** Short name drawn above the box, e.g. "x", "W_Q", "K^T". */
  name?: string;
  /** Identical copies this operand stands for (per-head tensors: n_heads); drawn as a stack. */
  copies?: number;
}

export interface FlowStage {
  /** Operands in equation order; `op` decides the symbol between them. */
  operands: readonly FlowOperand[];
  output: FlowOperand | null;
  /** matmul: x between operands; lookup: -> into the table; add/combine: +; anything else: a comma (see symbolFor). */
  op: string;
}

export interface TensorBox {
  x: number;
  y: number;
  w: number;
  h: number;
  /** Extra copies drawn behind (for a stack of heads, [12, 5, 64]); 0 for a plain matrix. */
  depth: number;
  role: OperandRole;
  dims: readonly number[];
  label: string;
  name?: string;
  /** Centre x of the label (below the box). */
  labelX: number;
  labelY: number;
}

export interface StageSymbol {
  x: number;
  y: number;
  text: string;
}

export interface StageLayout {
  boxes: TensorBox[];
  symbols: StageSymbol[];
  width: number;
  height: number;
}

export interface StageLayoutOptions {
  scale?: DimScaleOptions;
  /** Approximate width of one label character (monospace, 11-12px). */
  charPx?: number;
  gap?: number;
  /** Room above boxes for names and below for dimension labels. */
  nameHeight?: number;
  labelHeight?: number;
  /** Pixel offset between stacked copies, and how many copies at most. */
  stackOffset?: number;
  maxStack?: number;
}

const DEFAULTS = { charPx: 7, gap: 10, nameHeight: 16, labelHeight: 18, stackOffset: 4, maxStack: 3 };

/** Box size of a tensor: [n] is a row vector, [r, c] is r tall and c wide, leading axes become a stack. */
export function tensorSize(
  dims: readonly number[],
  scale: DimScaleOptions = DEFAULT_DIM_SCALE,
  maxStack = 3,
  extraCopies = 1,
): { w: number; h: number; depth: number } {
  if (dims.length === 0) return { w: dimToPx(1, scale), h: dimToPx(1, scale), depth: 0 };
  const cols = dims[dims.length - 1];
  const rows = dims.length >= 2 ? dims[dims.length - 2] : 1;
  const copies = dims.slice(0, -2).reduce((a, b) => a * b, 1) * Math.max(1, extraCopies);
  return { w: dimToPx(cols, scale), h: dimToPx(rows, scale), depth: Math.min(maxStack, Math.max(0, copies - 1)) };
}

/** The symbol between operand `index` and the next: x for matmul, -> into a lookup table, + for sums, else a comma. */
export function symbolFor(op: string, index: number): string {
  if (op === 'matmul') return '×';
  if (op === 'lookup') return index === 0 ? '→' : '×';
  if (op === 'add' || op === 'combine') return '+';
  return ',';
}

/**
 * Lay out operands left to right, `=` before the output, every box vertically centred on one midline.
 * Each column is as wide as its box or its label, whichever is wider, so labels never overlap.
 */
export function layoutStage(stage: FlowStage, options: StageLayoutOptions = {}): StageLayout {
  const o = { ...DEFAULTS, ...options };
  const scale = options.scale ?? DEFAULT_DIM_SCALE;
  const items: FlowOperand[] = [...stage.operands, ...(stage.output ? [stage.output] : [])];
  const sized = items.map((it) => ({
    it,
    ...tensorSize(it.dims, scale, o.maxStack, it.copies),
    label: formatDims(it.dims),
  }));
  const tallest = Math.max(0, ...sized.map((b) => b.h + b.depth * o.stackOffset));
  const midY = o.nameHeight + tallest / 2;
  const symbolW = 22;
  const boxes: TensorBox[] = [];
  const symbols: StageSymbol[] = [];
  let x = 0;
  sized.forEach((b, i) => {
    if (i > 0) {
      const isOutput = stage.output !== null && i === sized.length - 1;
      symbols.push({ x: x + symbolW / 2, y: midY, text: isOutput ? '=' : symbolFor(stage.op, i - 1) });
      x += symbolW;
    }
    const stackW = b.w + b.depth * o.stackOffset;
    const colW = Math.max(stackW, b.label.length * o.charPx, (b.it.name ?? '').length * o.charPx);
    const bx = x + (colW - stackW) / 2;
    const by = midY - (b.h + b.depth * o.stackOffset) / 2 + b.depth * o.stackOffset;
    boxes.push({
      x: bx,
      y: by,
      w: b.w,
      h: b.h,
      depth: b.depth,
      role: b.it.role,
      dims: b.it.dims,
      label: b.label,
      name: b.it.name,
      labelX: x + colW / 2,
      labelY: o.nameHeight + tallest + o.labelHeight - 5,
    });
    x += colW + o.gap;
  });
  return { boxes, symbols, width: Math.max(0, x - o.gap), height: o.nameHeight + tallest + o.labelHeight };
}
