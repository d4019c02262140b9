// Tensor values as heatmap tiles: split a row-major slice into 2-D matrices, bucket large ones into an overview,
// and print the first values of a row the way the walk-through does (`The = [0.316, 0.524, …]`).

export type AxisName = 'pos' | 'query_pos' | 'key_pos' | 'head' | 'd_model' | 'd_head' | 'd_mlp' | 'd_vocab';

export interface Axis {
  name: AxisName;
  size: number;
}

/** One 2-D matrix of a tensor: rows × cols, read through `at(r, c)` (null = NaN/±Inf on the server). */
export interface Matrix {
  /** "head 2" for a per-head tile, "" for a plain matrix. */
  title: string;
  /** Index along the tile axis (head), or null. */
  tile: number | null;
  rowAxis: Axis;
  colAxis: Axis;
  rows: number;
  cols: number;
  at(r: number, c: number): number | null;
}

const strides = (shape: readonly number[]): number[] => {
  const out = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) out[i] = out[i + 1] * shape[i + 1];
  return out;
};

/**
 * Matrices of a slice with axes `axes` (row-major `values`).
 * 1-D: one row. 2-D: rows × cols as stored. 3-D: one tile per `head` index (or per index of the first axis when
 * there is no head axis), rows = the position axis (or the remaining first axis), cols = the last axis —
 * so `[pos, head, d_head]` becomes n_head tiles of pos × d_head, and `[head, query_pos, key_pos]` n_head
 * query × key tiles.
 */
export function matricesOf(axes: readonly Axis[], values: readonly (number | null)[]): Matrix[] {
  const shape = axes.map((a) => a.size);
  const st = strides(shape);
  if (axes.length === 0) return [];
  if (axes.length === 1) {
    const rowAxis: Axis = { name: 'pos', size: 1 };
    return [
      { title: '', tile: null, rowAxis, colAxis: axes[0], rows: 1, cols: shape[0], at: (_r, c) => values[c] ?? null },
    ];
  }
  if (axes.length === 2) {
    return [
      {
        title: '',
        tile: null,
        rowAxis: axes[0],
        colAxis: axes[1],
        rows: shape[0],
        cols: shape[1],
        at: (r, c) => values[r * st[0] + c] ?? null,
      },
    ];
  }
  if (axes.length !== 3) throw new Error(`cannot tile a ${axes.length}-D tensor`);
  const headAt = axes.findIndex((a) => a.name === 'head');
  const tileAxis = Math.max(headAt, 0);
  const rest = [0, 1, 2].filter((i) => i !== tileAxis);
  const [ri, ci] = rest;
  const out: Matrix[] = [];
  for (let t = 0; t < shape[tileAxis]; t++) {
    const base = t * st[tileAxis];
    out.push({
      title: `${axes[tileAxis].name} ${t}`,
      tile: t,
      rowAxis: axes[ri],
      colAxis: axes[ci],
      rows: shape[ri],
      cols: shape[ci],
      at: (r, c) => values[base + r * st[ri] + c * st[ci]] ?? null,
    });
  }
  return out;
}

/** Smallest and largest finite value of a list (null when there is none). */
export function finiteRange(values: readonly (number | null)[]): { min: number; max: number } | null {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (v === null || !Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return min <= max ? { min, max } : null;
}

/** One drawn cell of an overview: the mean of a block of rows × cols of the matrix (exact when the block is 1 × 1). */
export interface OverviewCell {
  row: number;
  col: number;
  /** First and last (inclusive) matrix rows / cols the cell covers. */
  r0: number;
  r1: number;
  c0: number;
  c1: number;
  /** Mean of the finite values in the block; null when none is finite. */
  mean: number | null;
  /** Largest |value| in the block, with its sign (what a mean would hide). */
  peak: number | null;
}

export interface Overview {
  rows: number;
  cols: number;
  /** Matrix rows / cols per drawn cell (1 = every value has its own cell). */
  rowStep: number;
  colStep: number;
  cells: OverviewCell[];
}

/**
 * Bucket a matrix (optionally a column window [colStart, colEnd)) into at most maxRows × maxCols cells.
 * Buckets are contiguous and equal (the last one may be shorter), so cell (i, j) covers rows
 * [i·rowStep, (i+1)·rowStep) and cols [colStart + j·colStep, …).
 */
export function overview(m: Matrix, maxRows: number, maxCols: number, colStart = 0, colEnd = m.cols): Overview {
  const width = Math.max(0, Math.min(m.cols, colEnd) - colStart);
  const rowStep = Math.max(1, Math.ceil(m.rows / Math.max(1, maxRows)));
  const colStep = Math.max(1, Math.ceil(width / Math.max(1, maxCols)));
  const rows = Math.ceil(m.rows / rowStep);
  const cols = Math.ceil(width / colStep);
  const cells: OverviewCell[] = [];
  for (let i = 0; i < rows; i++) {
    const r0 = i * rowStep;
    const r1 = Math.min(m.rows, r0 + rowStep) - 1;
    for (let j = 0; j < cols; j++) {
      const c0 = colStart + j * colStep;
      const c1 = Math.min(colStart + width, c0 + colStep) - 1;
      let sum = 0;
      let n = 0;
      let peak: number | null = null;
      for (let r = r0; r <= r1; r++)
        for (let c = c0; c <= c1; c++) {
          const v = m.at(r, c);
          if (v === null || !Number.isFinite(v)) continue;
          sum += v;
          n += 1;
          if (peak === null || Math.abs(v) > Math.abs(peak)) peak = v;
        }
      cells.push({ row: i, col: j, r0, r1, c0, c1, mean: n > 0 ? sum / n : null, peak });
    }
  }
  return { rows, cols, rowStep, colStep, cells };
}

/** 0.31634 -> "0.316", -0.0004 -> "-4.00e-4": three decimals, exponent form for tiny or huge magnitudes. */
export function formatValue(v: number | null): string {
  if (v === null) return 'inf/nan';
  if (v === 0) return '0.000';
  const a = Math.abs(v);
  if (a < 1e-3 || a >= 1e5) return v.toExponential(2);
  return v.toFixed(3);
}

/** `The = [0.316, 0.524, 0.063, …]`: a label and the first `n` values of a row, an ellipsis when there are more. */
export function firstValues(label: string, row: readonly (number | null)[], n = 3): string {
  const shown = row.slice(0, n).map(formatValue);
  return `${label} = [${shown.join(', ')}${row.length > n ? ', …' : ''}]`;
}

/** Row `r` of a matrix as a plain array. */
export function rowOf(m: Matrix, r: number): (number | null)[] {
  return Array.from({ length: m.cols }, (_, c) => m.at(r, c));
}

/** Map a value onto [0, 1] over [min, max] for the sequential data palette (a flat range maps to 0.5). */
export function unitOf(v: number, min: number, max: number): number {
  if (!(max > min)) return 0.5;
  return Math.min(1, Math.max(0, (v - min) / (max - min)));
}
