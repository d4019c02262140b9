// MLP activation histogram of one layer (mlp.hook_post by default) from the step's HookSummary.
import type { HookSummary } from '../../../src/schemas/trace.js';
import { h, s, svgRoot } from '../dom.js';
import { formatTick } from '../layout/format.js';
import { histogramBars } from '../layout/histogram.js';

export function renderHistogram(summary: HookSummary | undefined, width = 420, height = 170): HTMLElement {
  if (!summary) return h('p', { class: 'muted' }, 'No MLP activations in this step.');
  const { histogram, stats } = summary;
  if (histogram.min === null || histogram.max === null) return h('p', { class: 'muted' }, 'No finite values.');
  const pad = { left: 8, right: 8, top: 8, bottom: 34 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const bars = histogramBars({
    counts: histogram.counts,
    min: histogram.min,
    max: histogram.max,
    width: plotW,
    height: plotH,
    logCounts: true,
  });
  const svg = svgRoot(width, height, { class: 'chart', role: 'img', 'aria-label': `Histogram of ${summary.hook}` });
  const g = s('g', { transform: `translate(${pad.left},${pad.top})` });
  for (const b of bars) {
    if (b.count === 0) continue;
    g.append(
      s(
        'rect',
        { x: b.x + 0.5, y: b.y, width: Math.max(0.5, b.w - 1), height: b.h, class: 'hist-bar' },
        s('title', {}, `[${formatTick(b.lo)}, ${formatTick(b.hi)}): ${b.count}`),
      ),
    );
  }
  g.append(s('line', { x1: 0, x2: plotW, y1: plotH, y2: plotH, class: 'axis' }));
  svg.append(g);
  svg.append(
    s('text', { x: pad.left, y: height - 18, class: 'axis-label' }, formatTick(histogram.min)),
    s(
      'text',
      { x: width - pad.right, y: height - 18, class: 'axis-label', 'text-anchor': 'end' },
      formatTick(histogram.max),
    ),
  );
  const zero =
    histogram.min < 0 && histogram.max > 0
      ? pad.left + (-histogram.min / (histogram.max - histogram.min)) * plotW
      : null;
  if (zero !== null)
    svg.append(s('text', { x: zero, y: height - 18, class: 'axis-label', 'text-anchor': 'middle' }, '0'));
  const mean = stats.mean === null ? 'n/a' : stats.mean.toPrecision(3);
  const std = stats.std === null ? 'n/a' : stats.std.toPrecision(3);
  return h(
    'figure',
    { class: 'figure' },
    svg,
    h(
      'figcaption',
      {},
      `${summary.hook} · ${stats.count.toLocaleString('en-US')} values · mean ${mean} · std ${std} · log-count bars`,
    ),
  );
}
