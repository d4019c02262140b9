import { describe, expect, it } from 'vitest';
import { DEFAULT_DIM_SCALE, dimToPx, linear, niceStep, niceTicks } from '../../../web/src/layout/scale.js';

describe('dimToPx (log scale of a dimension)', () => {
  it('maps 1 to minPx and maxDim to maxPx', () => {
    expect(dimToPx(1)).toBe(DEFAULT_DIM_SCALE.minPx);
    expect(dimToPx(DEFAULT_DIM_SCALE.maxDim)).toBe(DEFAULT_DIM_SCALE.maxPx);
  });

  it('is logarithmic: equal ratios give equal pixel steps', () => {
    const opts = { minPx: 0, maxPx: 180, maxDim: 2 ** 18 };
    // ln(64)/ln(2^18) = 6/18 -> 60 px; ln(4096)/ln(2^18) = 12/18 -> 120 px
    expect(dimToPx(64, opts)).toBe(60);
    expect(dimToPx(4096, opts)).toBe(120);
    expect(dimToPx(4096, opts) - dimToPx(64, opts)).toBe(dimToPx(64, opts) - dimToPx(1, opts));
  });

  it('fits a GPT-2 vocabulary and a head dimension on one page, larger never smaller', () => {
    const dims = [1, 5, 64, 768, 1024, 3072, 4096, 50257, 128256];
    const px = dims.map((d) => dimToPx(d));
    for (let i = 1; i < px.length; i++) expect(px[i]).toBeGreaterThan(px[i - 1]);
    expect(px.at(-1)).toBeLessThanOrEqual(DEFAULT_DIM_SCALE.maxPx);
  });

  it('clamps out-of-range and non-finite input', () => {
    expect(dimToPx(0)).toBe(DEFAULT_DIM_SCALE.minPx);
    expect(dimToPx(Number.NaN)).toBe(DEFAULT_DIM_SCALE.minPx);
    expect(dimToPx(1e12)).toBe(DEFAULT_DIM_SCALE.maxPx);
  });
});

describe('linear', () => {
  it('maps the domain ends onto the range ends (also reversed ranges)', () => {
    const y = linear(0, 10, 100, 0);
    expect(y(0)).toBe(100);
    expect(y(10)).toBe(0);
    expect(y(2.5)).toBe(75);
  });
  it('maps a degenerate domain to the middle of the range', () => {
    expect(linear(3, 3, 0, 50)(3)).toBe(25);
  });
});

describe('nice ticks', () => {
  it('uses 1/2/5 steps', () => {
    expect(niceStep(0, 100, 4)).toBe(50);
    expect(niceStep(0, 7, 4)).toBe(2);
    expect(niceStep(0, 0.3, 3)).toBe(0.1);
  });
  it('covers the range with round values and no float noise', () => {
    expect(niceTicks(0, 0.3, 3)).toEqual([0, 0.1, 0.2, 0.3]);
    expect(niceTicks(3.2, 17.9, 4)).toEqual([0, 5, 10, 15, 20]);
    expect(niceTicks(5, 5)).toEqual([5]);
  });
});
