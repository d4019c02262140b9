import { describe, expect, it } from 'vitest';
import { comparePublished, formatRelDiff } from '../../../web/src/layout/published.js';
import { dimToPx, linearScale } from '../../../web/src/layout/scale.js';

describe('published counts', () => {
  it("matches gpt-oss-20b's 3.61B active to the non-embedding convention", () => {
    const rows = comparePublished(
      { total: 20914757184, active: 3610000000 },
      { total: 20914757184, active: 4187440704, active_non_embedding: 3608307264 },
    );
    expect(rows.map((r) => r.convention)).toEqual(['total', 'active_non_embedding']);
    expect(rows[0].relDiff).toBe(0);
    expect(formatRelDiff(rows[1].relDiff)).toBe('−0.05%');
  });

  it('keeps the all-weights convention when it is the closer one, and nothing without a published count', () => {
    const rows = comparePublished(
      { total: null, active: 37e9 },
      { total: 671e9, active: 37.5e9, active_non_embedding: 36.5e9 + 0.4e9 },
    );
    expect(rows).toHaveLength(1);
    expect(rows[0].convention).toBe('active_non_embedding');
    expect(
      comparePublished({ total: null, active: null }, { total: 1, active: null, active_non_embedding: null }),
    ).toEqual([]);
    expect(formatRelDiff(0.0123)).toBe('+1.2%');
  });
});

describe('true-proportion scale', () => {
  it('is linear in the dimension and keeps tiny dims visible', () => {
    const sc = linearScale(4096, 640);
    expect(dimToPx(4096, sc)).toBe(640);
    expect(dimToPx(1024, sc)).toBe(160);
    expect(dimToPx(1024, sc) * 4).toBe(dimToPx(4096, sc));
    expect(dimToPx(2, sc)).toBe(1);
  });
});
