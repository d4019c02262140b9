// A sweep on the page: a progress bar while the cells run, then the grid as a heatmap (layers down, heads or prompt
// positions across), the exact value of each cell on hover and the unedited runs' values in the caption.
import type { SweepResponse } from '../../../src/schemas/sweep.js';
import { h, s, svgRoot } from '../dom.js';
import { sequentialBlue, textOn } from '../layout/colour.js';
import { formatTick, showToken } from '../layout/format.js';
import { heatmapGeometry, labelStride } from '../layout/heatmap.js';

const truncate = (t: string, n: number) => (t.length > n ? `${t.slice(0, n - 1)}…` : t);

export function renderSweepProgress(label: string, done: number, total: number): HTMLElement {
  return h(
    'div',
    { class: 'sweep-running' },
    h('label', { class: 'help', for: 'sweep-progress' }, `${label}: ${done} of ${total || '…'} cells`),
    h('progress', {
      id: 'sweep-progress',
      class: 'sweep-progress',
      max: Math.max(1, total),
      value: done,
      'data-done': done,
      'data-total': total,
    }),
  );
}

function metricName(r: SweepResponse, target: string, other: string | null): string {
  if (r.metric.kind === 'logit_diff' && other !== null)
    return `logit(${showToken(target)}) − logit(${showToken(other)})`;
  if (r.metric.kind === 'prob') return `p(${showToken(target)})`;
  return r.metric.kind;
}

/**
 * Colour: patch sweeps by `normalized` (0 = as corrupted, 1 = as clean, clamped); ablations by how far each cell
 * moves the metric from the clean value (the largest move darkest).
 */
function shades(r: SweepResponse): number[][] {
  if (r.normalized) return r.normalized.map((row) => row.map((v) => Math.min(1, Math.max(0, v))));
  const moves = r.values.map((row) => row.map((v) => Math.abs(v - r.clean)));
  const max = Math.max(0, ...moves.flat());
  return moves.map((row) => row.map((v) => (max > 0 ? v / max : 0)));
}

export function renderSweep(
  r: SweepResponse,
  opts: { maxWidth: number; target: string; other: string | null; source: string | null },
): HTMLElement {
  const [rowsAxis, colsAxis] = r.axes;
  const rows = rowsAxis.values.length;
  const cols = colsAxis.values.length;
  const gutterLeft = 44;
  const gutterTop = colsAxis.name === 'position' ? 60 : 30;
  const geo = heatmapGeometry({
    rows,
    cols,
    maxWidth: Math.max(160, opts.maxWidth - 30),
    gutterLeft,
    gutterTop,
    minCell: 14,
    maxCell: 52,
  });
  const fill = shades(r);
  const svg = svgRoot(geo.width + 30, geo.height + 4, {
    class: 'heatmap sweep-grid',
    role: 'img',
    'data-kind': r.kind,
    'data-rows': rows,
    'data-cols': cols,
    'aria-label': `${r.kind === 'patch' ? 'Patch' : 'Ablation'} sweep: ${rows} layers by ${cols} ${colsAxis.name}s`,
  });
  const metric = metricName(r, opts.target, opts.other);
  for (const cell of geo.cells) {
    const v = r.values[cell.row]?.[cell.col] ?? Number.NaN;
    const bg = sequentialBlue(fill[cell.row]?.[cell.col] ?? 0);
    const n = r.normalized?.[cell.row]?.[cell.col];
    const colLabel =
      colsAxis.name === 'position'
        ? `position ${colsAxis.values[cell.col]} (${showToken(colsAxis.labels[cell.col] ?? '')})`
        : `head ${colsAxis.values[cell.col]}`;
    svg.append(
      s(
        'rect',
        {
          x: cell.x,
          y: cell.y,
          width: geo.cell,
          height: geo.cell,
          fill: bg,
          class: 'cell',
          tabindex: 0,
          'data-row': cell.row,
          'data-col': cell.col,
          'data-layer': rowsAxis.values[cell.row],
          'data-value': v,
          'data-normalized': n ?? undefined,
        },
        s(
          'title',
          {},
          `layer ${rowsAxis.values[cell.row]}, ${colLabel}: ${metric} = ${v}${n === undefined ? '' : ` (normalized ${n})`}`,
        ),
      ),
    );
    if (geo.cell >= 34)
      svg.append(
        s(
          'text',
          {
            x: cell.x + geo.cell / 2,
            y: cell.y + geo.cell / 2 + 4,
            class: 'cell-value',
            'text-anchor': 'middle',
            fill: textOn(bg),
          },
          formatTick(n ?? v),
        ),
      );
  }
  geo.rowCentres.forEach((y, i) => {
    svg.append(
      s('text', { x: gutterLeft - 6, y: y + 4, class: 'tick', 'text-anchor': 'end' }, `L${rowsAxis.values[i]}`),
    );
  });
  const stride = labelStride(geo.cell, 12);
  geo.colCentres.forEach((x, i) => {
    if (i % stride !== 0 && i !== cols - 1) return;
    const label =
      colsAxis.name === 'position' ? truncate(showToken(colsAxis.labels[i] ?? ''), 9) : `h${colsAxis.values[i]}`;
    svg.append(
      colsAxis.name === 'position'
        ? s('text', { x: 0, y: 0, class: 'tick', transform: `translate(${x - 2},${gutterTop - 6}) rotate(-50)` }, label)
        : s('text', { x, y: gutterTop - 8, class: 'tick', 'text-anchor': 'middle' }, label),
    );
  });
  svg.append(s('text', { x: 2, y: 12, class: 'tick axis-name' }, `layer ↓ · ${colsAxis.name} →`));
  const values =
    r.kind === 'patch'
      ? `${metric}: clean ${formatTick(r.clean)}, corrupted ${formatTick(r.corrupted ?? Number.NaN)}. Each cell patches the clean run's ${r.hook} at one layer and position into the corrupted run (${opts.source ? `"${opts.source}"` : 'the source prompt'}); the number is normalized: 0 = as corrupted, 1 = as clean.`
      : `${metric}: clean ${formatTick(r.clean)}. Each cell zeroes one head's output (attn.hook_z) at every position; darker = moves the metric more.`;
  // The hovered or focused cell's exact value, also for the keyboard (Tab walks the cells).
  const readout = h(
    'p',
    { class: 'sweep-readout mono', 'aria-live': 'polite' },
    'Hover or focus a cell for its value.',
  );
  const show = (ev: Event) => {
    const t = ev.target;
    if (t instanceof SVGRectElement && t.classList.contains('cell'))
      readout.textContent = t.querySelector('title')?.textContent ?? '';
  };
  svg.addEventListener('mouseover', show);
  svg.addEventListener('focusin', show);
  return h(
    'figure',
    { class: 'figure sweep-figure', 'data-clean': r.clean, 'data-corrupted': r.corrupted ?? '' },
    h('div', { class: 'sweep-scroll' }, svg),
    readout,
    h('figcaption', {}, values, ` ${r.computed} of ${r.cells} cells ran (${r.timings.total_ms.toFixed(0)} ms).`),
  );
}
