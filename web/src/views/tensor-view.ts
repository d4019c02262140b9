// One activation tensor with its real values: per-head tiles of heatmaps in the data blue, tokens and dims on the axes,
// the exact value of the cell under the pointer (or the keyboard cursor), and the first values of each row printed.
import { h, s, svgRoot } from '../dom.js';
import { sequentialBlue } from '../layout/colour.js';
import { formatDims, showToken } from '../layout/format.js';
import {
  type Axis,
  finiteRange,
  firstValues,
  formatValue,
  type Matrix,
  matricesOf,
  overview,
  rowOf,
  unitOf,
} from '../layout/tensor-grid.js';

export interface TensorViewInput {
  hook: string;
  axes: Axis[];
  values: (number | null)[];
  /** Absolute positions along the pos / query_pos axis. */
  positions: number[];
  /** Text of every position of the sequence (key axis labels and row labels). */
  tokens: string[];
  /** Width available for one tile. */
  maxWidth: number;
  /** Most columns drawn one per value before the overview buckets them. */
  maxCols?: number;
  /** First column of the window shown (for wide matrices). */
  colStart?: number;
}

const truncate = (t: string, n: number) => (t.length > n ? `${t.slice(0, n - 1)}…` : t);
const isPos = (a: Axis) => a.name === 'pos' || a.name === 'query_pos';

/** Label of index i along an axis: the token for a position axis, else the axis name and index. */
function axisLabel(axis: Axis, i: number, positions: number[], tokens: string[]): string {
  if (isPos(axis)) {
    const p = positions[i] ?? i;
    return showToken(tokens[p] ?? String(p));
  }
  if (axis.name === 'key_pos') return showToken(tokens[i] ?? String(i));
  return `${axis.name} ${i}`;
}

/** `The = [0.316, 0.524, …]` for each row of the first tile (up to 8 rows). */
export function firstValuesLines(m: Matrix, positions: number[], tokens: string[], maxRows = 8): string[] {
  const lines: string[] = [];
  const n = Math.min(m.rows, maxRows);
  const labels = Array.from({ length: n }, (_, r) =>
    isPos(m.rowAxis) ? (tokens[positions[r] ?? r] ?? '').trim() || '∅' : `${m.rowAxis.name} ${r}`,
  );
  const pad = Math.max(0, ...labels.map((l) => l.length));
  for (let r = 0; r < n; r++) lines.push(firstValues(labels[r].padEnd(pad), rowOf(m, r)));
  if (m.rows > maxRows) lines.push(`… ${m.rows - maxRows} more rows`);
  return lines;
}

interface TileOptions {
  m: Matrix;
  input: TensorViewInput;
  range: { min: number; max: number };
  readout: HTMLElement;
}

function renderTile({ m, input, range, readout }: TileOptions): SVGSVGElement {
  const maxCols = input.maxCols ?? 128;
  const colStart = Math.min(input.colStart ?? 0, Math.max(0, m.cols - 1));
  const ov = overview(m, 64, maxCols, colStart, m.cols);
  const rowLabels = isPos(m.rowAxis) || m.rows <= 16;
  const gutterLeft = rowLabels ? 70 : 8;
  const gutterTop = 18;
  const cellW = Math.max(2, Math.min(22, Math.floor((input.maxWidth - gutterLeft - 8) / Math.max(1, ov.cols))));
  const cellH = Math.max(4, Math.min(22, cellW * 1.4));
  const width = gutterLeft + ov.cols * cellW + 8;
  const height = gutterTop + ov.rows * cellH + 18;
  const svg = svgRoot(width, height, {
    class: 'tensor-map',
    role: 'img',
    tabindex: 0,
    'data-hook': input.hook,
    'data-tile': m.tile ?? '',
    'data-rows': m.rows,
    'data-cols': m.cols,
    'data-col-step': ov.colStep,
    'aria-label': `${input.hook}${m.title ? ` ${m.title}` : ''}: ${m.rows} ${m.rowAxis.name} rows by ${m.cols} ${m.colAxis.name} columns${ov.colStep > 1 ? `, each cell the mean of ${ov.colStep} columns` : ''}. Arrow keys move the cursor.`,
  });
  if (m.title) svg.append(s('text', { x: gutterLeft, y: 12, class: 'tile-title' }, m.title));
  const describe = (row: number, col: number): string => {
    const cell = ov.cells[row * ov.cols + col];
    const rl = axisLabel(m.rowAxis, cell.r0, input.positions, input.tokens);
    if (cell.c0 === cell.c1 && cell.r0 === cell.r1) {
      const cl = axisLabel(m.colAxis, cell.c0, input.positions, input.tokens);
      return `${m.title ? `${m.title} · ` : ''}${rl} · ${cl} = ${String(m.at(cell.r0, cell.c0) ?? 'masked (−inf)')}`;
    }
    return `${m.title ? `${m.title} · ` : ''}${rl} · ${m.colAxis.name} ${cell.c0}–${cell.c1}: mean ${formatValue(cell.mean)}, largest |x| ${formatValue(cell.peak)}`;
  };
  const cursor = s('rect', { class: 'cell-cursor', width: cellW, height: cellH, x: -100, y: -100 });
  let at = { row: 0, col: 0 };
  const move = (row: number, col: number) => {
    at = { row: Math.max(0, Math.min(ov.rows - 1, row)), col: Math.max(0, Math.min(ov.cols - 1, col)) };
    cursor.setAttribute('x', String(gutterLeft + at.col * cellW));
    cursor.setAttribute('y', String(gutterTop + at.row * cellH));
    readout.textContent = describe(at.row, at.col);
  };
  for (const cell of ov.cells) {
    const v = ov.colStep === 1 && ov.rowStep === 1 ? m.at(cell.r0, cell.c0) : cell.mean;
    svg.append(
      s('rect', {
        x: gutterLeft + cell.col * cellW,
        y: gutterTop + cell.row * cellH,
        width: cellW,
        height: cellH,
        class: v === null ? 'cell masked' : 'cell',
        fill: v === null ? undefined : sequentialBlue(unitOf(v, range.min, range.max)),
        'data-r': cell.row,
        'data-c': cell.col,
        'data-v': v === null ? 'null' : String(v),
      }),
    );
  }
  svg.append(cursor);
  svg.addEventListener('mouseover', (ev) => {
    const t = ev.target as Element;
    if (!t.hasAttribute('data-r')) return;
    move(Number(t.getAttribute('data-r')), Number(t.getAttribute('data-c')));
  });
  svg.addEventListener('keydown', (ev) => {
    const d: Record<string, [number, number]> = {
      ArrowUp: [-1, 0],
      ArrowDown: [1, 0],
      ArrowLeft: [0, -1],
      ArrowRight: [0, 1],
    };
    const step = d[ev.key];
    if (!step) return;
    ev.preventDefault();
    move(at.row + step[0], at.col + step[1]);
  });
  svg.addEventListener('focus', () => move(at.row, at.col));
  if (rowLabels)
    for (let r = 0; r < ov.rows; r++) {
      if (ov.rowStep > 1 || cellH < 9) continue;
      svg.append(
        s(
          'text',
          { x: gutterLeft - 4, y: gutterTop + r * cellH + cellH / 2 + 4, class: 'tick', 'text-anchor': 'end' },
          truncate(axisLabel(m.rowAxis, r, input.positions, input.tokens), 10),
        ),
      );
    }
  // Column axis: first and last index of the window (token labels for a key axis when they fit).
  const colText = (j: number) => {
    const c = ov.cells[j]?.c0 ?? 0;
    return m.colAxis.name === 'key_pos'
      ? truncate(axisLabel(m.colAxis, c, input.positions, input.tokens), 8)
      : String(c);
  };
  const y = gutterTop + ov.rows * cellH + 13;
  svg.append(s('text', { x: gutterLeft, y, class: 'tick' }, colText(0)));
  if (ov.cols > 1) {
    const lastCell = ov.cells[ov.cols - 1];
    svg.append(
      s(
        'text',
        { x: gutterLeft + ov.cols * cellW, y, class: 'tick', 'text-anchor': 'end' },
        m.colAxis.name === 'key_pos' ? colText(ov.cols - 1) : `${m.colAxis.name} ${lastCell.c1}`,
      ),
    );
  }
  return svg;
}

/** All tiles of a tensor with one shared colour range, the printed first values and a hover readout. */
export function renderTensor(input: TensorViewInput): HTMLElement {
  const mats = matricesOf(input.axes, input.values);
  const range = finiteRange(input.values) ?? { min: 0, max: 0 };
  const readout = h(
    'p',
    { class: 'tensor-readout mono', 'aria-live': 'polite' },
    'Point at a cell (or focus a map and use the arrow keys) for its exact value.',
  );
  const shape = formatDims(input.axes.map((a) => a.size));
  const names = input.axes.map((a) => a.name).join(' × ');
  const first = mats[0];
  const lines = first ? firstValuesLines(first, input.positions, input.tokens) : [];
  const maxCols = input.maxCols ?? 128;
  const wide = first ? first.cols > maxCols : false;
  // Several tiles (heads) share a row when there is room for two.
  const tileWidth = mats.length > 1 && input.maxWidth >= 560 ? Math.floor((input.maxWidth - 12) / 2) : input.maxWidth;
  return h(
    'div',
    { class: 'tensor-values', 'data-hook': input.hook, 'data-shape': shape },
    h('p', { class: 'tensor-shape mono' }, `${input.hook} ${shape} · ${names}`),
    h(
      'pre',
      { class: 'first-values mono', 'aria-label': 'First values of each row' },
      `${first?.title ? `${first.title}:\n` : ''}${lines.join('\n')}`,
    ),
    h(
      'p',
      { class: 'legend' },
      h('span', { class: 'legend-ramp', 'aria-hidden': 'true' }),
      ` ${formatValue(range.min)} … ${formatValue(range.max)} (light to dark blue, one scale for every tile)`,
      wide
        ? ` · ${first?.cols} ${first?.colAxis.name} columns: each cell is the mean of ${Math.ceil((first?.cols ?? 1) / maxCols)} neighbours (hover shows the block's mean and largest value)`
        : '',
    ),
    readout,
    h(
      'div',
      { class: 'tensor-tiles' },
      ...mats.map((m) => renderTile({ m, input: { ...input, maxWidth: tileWidth }, range, readout })),
    ),
  );
}
