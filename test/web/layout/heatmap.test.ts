import { describe, expect, it } from 'vitest';
import { causallyVisible, heatmapGeometry, labelStride } from '../../../web/src/layout/heatmap.js';

describe('heatmapGeometry', () => {
  it('gives every (query, key) pair one square cell: the full grid', () => {
    const g = heatmapGeometry({ rows: 5, cols: 5, maxWidth: 300, gutterLeft: 60, gutterTop: 40 });
    expect(g.cells).toHaveLength(25);
    expect(g.cell).toBe(28); // (300 - 60) / 5 = 48, capped at maxCell 28
    expect(g.cells[6]).toEqual({ row: 1, col: 1, x: 60 + 28, y: 40 + 28 });
    expect(g.width).toBe(60 + 5 * 28);
    expect(g.height).toBe(40 + 5 * 28);
    expect(g.rowCentres[0]).toBe(54);
    expect(g.colCentres[4]).toBe(60 + 4.5 * 28);
  });
  it('shrinks cells to fit and stops at minCell', () => {
    expect(heatmapGeometry({ rows: 20, cols: 20, maxWidth: 260, gutterLeft: 60, gutterTop: 0 }).cell).toBe(10);
    expect(
      heatmapGeometry({ rows: 500, cols: 500, maxWidth: 260, gutterLeft: 60, gutterTop: 0, minCell: 3 }).cell,
    ).toBe(3);
  });
  it('handles a decode row (1 x n) and empty input', () => {
    expect(heatmapGeometry({ rows: 1, cols: 9, maxWidth: 400, gutterLeft: 0, gutterTop: 0 }).cells).toHaveLength(9);
    expect(heatmapGeometry({ rows: 0, cols: 0, maxWidth: 400, gutterLeft: 0, gutterTop: 0 }).cells).toHaveLength(0);
  });
});

describe('causallyVisible', () => {
  it('is the lower triangle for a prefill (rows = cols)', () => {
    let visible = 0;
    for (let r = 0; r < 5; r++) for (let c = 0; c < 5; c++) if (causallyVisible(r, c, 5, 5)) visible++;
    expect(visible).toBe(15);
    expect(causallyVisible(0, 1, 5, 5)).toBe(false);
    expect(causallyVisible(4, 4, 5, 5)).toBe(true);
  });
  it('lets a decode row see every key', () => {
    for (let c = 0; c < 8; c++) expect(causallyVisible(0, c, 1, 8)).toBe(true);
  });
});

describe('labelStride', () => {
  it('keeps labels at least minLabelPx apart', () => {
    expect(labelStride(20)).toBe(1);
    expect(labelStride(5)).toBe(3);
    expect(labelStride(0)).toBe(1);
  });
});
