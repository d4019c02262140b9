// Residual-stream norm per position (columns) and stage (rows) as a small heatmap, values printed in the cells.
import { h, s, svgRoot } from '../dom.js';
import { sequentialBlue, textOn } from '../layout/colour.js';
import { showToken } from '../layout/format.js';
import type { NormGrid } from '../layout/resid-norms.js';

const truncate = (t: string, n: number) => (t.length > n ? `${t.slice(0, n - 1)}…` : t);

export function renderResidPositions(grid: NormGrid, tokens: string[], maxWidth: number): HTMLElement {
  const cols = grid.positions.length;
  const gutterLeft = 46;
  const gutterTop = 40;
  const cell = Math.max(8, Math.min(48, Math.floor((maxWidth - gutterLeft - 4) / Math.max(1, cols))));
  const cellH = 20;
  const width = gutterLeft + cols * cell + 4;
  const height = gutterTop + grid.stages.length * cellH + 4;
  const svg = svgRoot(width, height, {
    class: 'resid-grid',
    role: 'img',
    'aria-label': `Residual-stream norm for ${grid.stages.length} stages by ${cols} positions`,
  });
  grid.norms.forEach((row, r) => {
    svg.append(
      s(
        'text',
        { x: gutterLeft - 6, y: gutterTop + r * cellH + 14, class: 'tick', 'text-anchor': 'end' },
        grid.stages[r],
      ),
    );
    row.forEach((v, c) => {
      const fill = sequentialBlue(grid.max > 0 ? v / grid.max : 0);
      const x = gutterLeft + c * cell;
      const y = gutterTop + r * cellH;
      svg.append(
        s(
          'rect',
          {
            x,
            y,
            width: cell,
            height: cellH,
            fill,
            class: 'cell',
            'data-stage': grid.stages[r],
            'data-position': grid.positions[c],
            'data-norm': v,
          },
          s('title', {}, `${grid.hooks[r]} · position ${grid.positions[c]}: ‖resid‖ = ${v.toFixed(4)}`),
        ),
      );
      if (cell >= 34)
        svg.append(
          s(
            'text',
            { x: x + cell / 2, y: y + 14, class: 'cell-value', 'text-anchor': 'middle', fill: textOn(fill) },
            v.toFixed(v >= 100 ? 0 : 1),
          ),
        );
    });
  });
  grid.positions.forEach((p, c) => {
    const x = gutterLeft + c * cell + cell / 2;
    svg.append(
      s(
        'text',
        { x, y: gutterTop - 6, class: 'tick', 'text-anchor': 'start', transform: `rotate(-40 ${x} ${gutterTop - 6})` },
        truncate(showToken(tokens[p] ?? String(p)), 8),
      ),
    );
  });
  const last = grid.positions.length - 1;
  return h(
    'figure',
    { class: 'figure resid-positions' },
    svg,
    h(
      'figcaption',
      {},
      `‖resid‖₂ of each position after the embedding and each block. The last column (position ${grid.positions[last] ?? ''}) predicts the token: its numbers are the ‖resid‖ that npm run watch prints for it.`,
    ),
  );
}
