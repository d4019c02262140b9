import { describe, expect, it } from 'vitest';
import { lineChart } from '../../../web/src/layout/line-chart.js';

const pad = { left: 40, right: 10, top: 10, bottom: 20 };

describe('lineChart', () => {
  it('spreads points over the plot width and maps values onto nice y ticks', () => {
    const g = lineChart({ values: [2, 4, 8], width: 250, height: 130, pad, zeroBased: true });
    expect(g.points.map((p) => p.x)).toEqual([40, 140, 240]);
    // ticks 0..8 step 2 -> y(0) = 110 (bottom), y(8) = 10 (top)
    expect(g.yTicks.map((t) => t.value)).toEqual([0, 2, 4, 6, 8]);
    expect(g.points.map((p) => p.y)).toEqual([85, 60, 10]);
    expect(g.path).toBe('M40.0,85.0L140.0,60.0L240.0,10.0');
  });
  it('skips non-finite values and returns an empty chart for none', () => {
    expect(lineChart({ values: [1, Number.NaN, 3], width: 100, height: 100, pad }).points).toHaveLength(2);
    expect(lineChart({ values: [], width: 100, height: 100, pad }).path).toBe('');
  });
  it('thins x ticks on long series', () => {
    const g = lineChart({ values: Array.from({ length: 49 }, (_, i) => i), width: 500, height: 100, pad });
    expect(g.xTicks.length).toBeLessThanOrEqual(13);
    expect(g.xTicks[0].index).toBe(0);
  });
});
