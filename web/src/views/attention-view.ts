// Attention heatmaps of one layer: one SVG grid per head, query positions down, key positions across.
import { h, s, svgRoot } from '../dom.js';
import { probColour } from '../layout/colour.js';
import { formatProb, showToken } from '../layout/format.js';
import { causallyVisible, heatmapGeometry, labelStride } from '../layout/heatmap.js';

export interface HeadPattern {
  head: number;
  /** Row per query position (absolute), each the pattern over key positions 0..q. */
  rows: Map<number, ArrayLike<number>>;
}

export interface AttentionViewInput {
  layer: number;
  heads: HeadPattern[];
  /** Text of every position 0..keys-1 (axis labels). */
  tokens: string[];
  /** Query position produced by the step on screen (its row is outlined). */
  focusQuery: number | null;
  maxWidth: number;
}

const truncate = (t: string, n: number) => (t.length > n ? `${t.slice(0, n - 1)}…` : t);

/**
 * The full query x key grid: rows are the query positions present, columns every key position.
 * Cells a query cannot see (causal mask) are drawn as masked so the triangle is visible.
 */
export function renderHeadHeatmap(input: AttentionViewInput, hp: HeadPattern): SVGSVGElement {
  const queries = [...hp.rows.keys()].sort((a, b) => a - b);
  const keys = input.tokens.length;
  const gutterLeft = 72;
  const gutterTop = 56;
  const geo = heatmapGeometry({
    rows: queries.length,
    cols: keys,
    maxWidth: input.maxWidth,
    gutterLeft,
    gutterTop,
    maxCell: 26,
  });
  // Room on the right for the last rotated key label.
  const svg = svgRoot(geo.width + 40, geo.height + 4, {
    class: 'heatmap',
    role: 'img',
    'data-layer': input.layer,
    'data-head': hp.head,
    'data-rows': queries.length,
    'data-cols': keys,
    'aria-label': `Layer ${input.layer} head ${hp.head} attention: ${queries.length} query rows by ${keys} key columns`,
  });
  for (const cell of geo.cells) {
    const q = queries[cell.row];
    const row = hp.rows.get(q) ?? [];
    // Queries are absolute positions; the grid is the last `keys` columns for a row that sees keys 0..q.
    const visible = causallyVisible(q, cell.col, keys, keys);
    const p = visible ? (row[cell.col] ?? 0) : 0;
    svg.append(
      s(
        'rect',
        {
          x: cell.x,
          y: cell.y,
          width: geo.cell,
          height: geo.cell,
          class: visible ? 'cell' : 'cell masked',
          fill: visible ? probColour(p) : undefined,
        },
        s(
          'title',
          {},
          visible
            ? `${showToken(input.tokens[q] ?? '')} → ${showToken(input.tokens[cell.col] ?? '')}: ${formatProb(p)}`
            : 'masked (future key)',
        ),
      ),
    );
  }
  const stride = labelStride(geo.cell, 11);
  geo.rowCentres.forEach((y, r) => {
    if (r % stride !== 0 && r !== queries.length - 1) return;
    const q = queries[r];
    svg.append(
      s(
        'text',
        { x: gutterLeft - 6, y: y + 4, class: q === input.focusQuery ? 'tick focus' : 'tick', 'text-anchor': 'end' },
        truncate(showToken(input.tokens[q] ?? ''), 9),
      ),
    );
  });
  geo.colCentres.forEach((x, c) => {
    if (c % stride !== 0 && c !== keys - 1) return;
    svg.append(
      s(
        'text',
        { x: 0, y: 0, class: 'tick', transform: `translate(${x + 4},${gutterTop - 6}) rotate(-55)` },
        truncate(showToken(input.tokens[c] ?? ''), 9),
      ),
    );
  });
  if (input.focusQuery !== null) {
    const r = queries.indexOf(input.focusQuery);
    if (r >= 0)
      svg.append(
        s('rect', {
          x: geo.x0,
          y: geo.y0 + r * geo.cell,
          width: keys * geo.cell,
          height: geo.cell,
          class: 'focus-row',
        }),
      );
  }
  return svg;
}

/** Colour key: the same sqrt-stretched blue as the cells, 0 to 1, plus the masked swatch. */
function legend(): HTMLElement {
  const stops = Array.from({ length: 11 }, (_, i) => `${probColour((i / 10) ** 2)} ${i * 10}%`).join(', ');
  return h(
    'p',
    { class: 'scale-legend' },
    h('span', {}, '0'),
    h('span', { class: 'ramp', style: `background: linear-gradient(to right, ${stops})`, 'aria-hidden': 'true' }),
    h('span', {}, '1'),
    h('span', { class: 'muted-inline' }, 'attention weight (sqrt scale)'),
    h('span', { class: 'swatch masked', 'aria-hidden': 'true' }),
    h('span', { class: 'muted-inline' }, 'masked: a future key'),
    h('span', { class: 'swatch focus', 'aria-hidden': 'true' }),
    h('span', { class: 'muted-inline' }, 'row of this step'),
  );
}

export function renderAttention(input: AttentionViewInput): HTMLElement {
  if (input.heads.length === 0) return h('p', { class: 'muted' }, 'No attention patterns in this step.');
  const grid = h('div', { class: 'heads' });
  for (const hp of input.heads) {
    grid.append(h('figure', { class: 'head' }, h('figcaption', {}, `head ${hp.head}`), renderHeadHeatmap(input, hp)));
  }
  return h('div', {}, legend(), grid);
}
