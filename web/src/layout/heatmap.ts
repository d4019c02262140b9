// Attention heatmap geometry: one square cell per (query_pos, key_pos), token labels on both axes.

export interface HeatmapGeometryInput {
  rows: number; // query positions
  cols: number; // key positions
  /** Width available for the whole figure (labels included). */
  maxWidth: number;
  /** Room reserved left of the grid for query labels and above it for key labels. */
  gutterLeft: number;
  gutterTop: number;
  minCell?: number;
  maxCell?: number;
}

export interface HeatmapCell {
  row: number;
  col: number;
  x: number;
  y: number;
}

export interface HeatmapGeometry {
  cell: number;
  x0: number;
  y0: number;
  width: number;
  height: number;
  cells: HeatmapCell[];
  /** Centre of each row / column, for axis labels. */
  rowCentres: number[];
  colCentres: number[];
}

/**
 * Cells are square and as large as fit in maxWidth, between minCell and maxCell pixels.
 * Every (row, col) gets a cell: the full grid, so the causal mask shows as empty upper-right cells.
 */
export function heatmapGeometry(input: HeatmapGeometryInput): HeatmapGeometry {
  const minCell = input.minCell ?? 4;
  const maxCell = input.maxCell ?? 28;
  const rows = Math.max(0, Math.floor(input.rows));
  const cols = Math.max(0, Math.floor(input.cols));
  const avail = Math.max(0, input.maxWidth - input.gutterLeft);
  const fit = cols > 0 ? Math.floor(avail / cols) : maxCell;
  const cell = Math.max(minCell, Math.min(maxCell, fit));
  const x0 = input.gutterLeft;
  const y0 = input.gutterTop;
  const cells: HeatmapCell[] = [];
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) cells.push({ row: r, col: c, x: x0 + c * cell, y: y0 + r * cell });
  return {
    cell,
    x0,
    y0,
    width: x0 + cols * cell,
    height: y0 + rows * cell,
    cells,
    rowCentres: Array.from({ length: rows }, (_, r) => y0 + (r + 0.5) * cell),
    colCentres: Array.from({ length: cols }, (_, c) => x0 + (c + 0.5) * cell),
  };
}

/**
 * Whether key `col` is visible to query `row` under the causal mask, when the rows are the last
 * `rows` of a sequence of `cols` keys (a decode step has 1 row and past + 1 columns).
 */
export function causallyVisible(row: number, col: number, rows: number, cols: number): boolean {
  return col <= cols - rows + row;
}

/** Keep every k-th axis label so labels are at least minLabelPx apart (dense prompts would overlap). */
export function labelStride(cell: number, minLabelPx = 12): number {
  if (cell <= 0) return 1;
  return Math.max(1, Math.ceil(minLabelPx / cell));
}
