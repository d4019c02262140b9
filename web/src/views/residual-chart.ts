// Residual-stream norm across layers (embedding, then each block's resid_post) as an SVG line chart.
import type { HookSummary } from '../../../src/schemas/trace.js';
import { s, svgRoot, h } from '../dom.js';
import { formatTick } from '../layout/format.js';
import { lineChart } from '../layout/line-chart.js';

export interface NormPoint {
  label: string;
  hook: string;
  /** Root-mean-square over the summarised positions of each position's L2 norm. */
  value: number;
}

/**
 * Per-position residual norm from the summaries. A summary's l2_norm covers its whole slice (all summarised
 * positions), so sqrt(sum of squares / positions) is the RMS of the per-position norms: exactly the norm of
 * the one row when a step summarises one position, as every decode step does.
 */
export function residualNorms(hooks: readonly HookSummary[]): NormPoint[] {
  const out: NormPoint[] = [];
  const pre0 = hooks.find((x) => x.hook === 'blocks.0.hook_resid_pre');
  const posts = hooks.filter((x) => x.site === 'hook_resid_post').sort((a, b) => (a.layer ?? 0) - (b.layer ?? 0));
  const rms = (x: HookSummary) => x.stats.l2_norm / Math.sqrt(Math.max(1, x.positions.length));
  if (pre0) out.push({ label: 'embed', hook: pre0.hook, value: rms(pre0) });
  for (const p of posts) out.push({ label: `L${p.layer}`, hook: p.hook, value: rms(p) });
  return out;
}

export function renderResidualChart(points: readonly NormPoint[], width = 420, height = 180): HTMLElement {
  if (points.length === 0) return h('p', { class: 'muted' }, 'No residual-stream hooks in this step.');
  const pad = { left: 44, right: 12, top: 10, bottom: 26 };
  const g = lineChart({ values: points.map((p) => p.value), width, height, pad, zeroBased: true });
  const svg = svgRoot(width, height, { class: 'chart', role: 'img', 'aria-label': 'Residual-stream norm per layer' });
  for (const t of g.yTicks) {
    svg.append(
      s('line', { x1: pad.left, x2: width - pad.right, y1: t.y, y2: t.y, class: 'grid' }),
      s('text', { x: pad.left - 6, y: t.y + 4, class: 'axis-label', 'text-anchor': 'end' }, formatTick(t.value)),
    );
  }
  for (const t of g.xTicks) {
    svg.append(
      s('text', { x: t.x, y: height - 8, class: 'axis-label', 'text-anchor': 'middle' }, points[t.index].label),
    );
  }
  svg.append(s('path', { d: g.path, class: 'line' }));
  for (const p of g.points) {
    const pt = points[p.index];
    svg.append(
      s('circle', { cx: p.x, cy: p.y, r: 3.5, class: 'dot' }, s('title', {}, `${pt.hook}: ${pt.value.toPrecision(5)}`)),
    );
  }
  return h(
    'figure',
    { class: 'figure' },
    svg,
    h(
      'figcaption',
      {},
      '‖resid‖₂ per token after the embedding and each block (root-mean-square over the step’s positions)',
    ),
  );
}
