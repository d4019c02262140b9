// Residual-stream norm per position and stage, from raw [pos, d_model] slices: the number a summary's l2_norm hides
// when a step covers several positions.

export interface ResidSlice {
  hook: string;
  /** -1 for the embedding (blocks.0.hook_resid_pre), else the block whose resid_post this is. */
  layer: number;
  positions: number[];
  /** Row-major [positions.length, d_model]; null = non-finite. */
  values: readonly (number | null)[];
}

export interface NormGrid {
  /** "embed", "L0", "L1", …: the labels of `npm run watch` (which writes "emb"). */
  stages: string[];
  hooks: string[];
  positions: number[];
  /** norms[stage][i] = ‖x at positions[i]‖₂ over d_model (finite values only). */
  norms: number[][];
  max: number;
}

/** L2 norm of each row of a row-major [rows, cols] slice. */
export function rowNorms(values: readonly (number | null)[], rows: number, cols: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    let ss = 0;
    for (let c = 0; c < cols; c++) {
      const v = values[r * cols + c];
      if (v !== null && v !== undefined && Number.isFinite(v)) ss += v * v;
    }
    out.push(Math.sqrt(ss));
  }
  return out;
}

export function normGrid(slices: readonly ResidSlice[]): NormGrid {
  const sorted = [...slices].sort((a, b) => a.layer - b.layer);
  const positions = sorted[0]?.positions ?? [];
  const norms = sorted.map((s) =>
    rowNorms(s.values, s.positions.length, s.values.length / Math.max(1, s.positions.length)),
  );
  return {
    stages: sorted.map((s) => (s.layer < 0 ? 'embed' : `L${s.layer}`)),
    hooks: sorted.map((s) => s.hook),
    positions,
    norms,
    max: Math.max(0, ...norms.flat()),
  };
}
