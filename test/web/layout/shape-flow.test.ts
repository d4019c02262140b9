import { describe, expect, it } from 'vitest';
import { layoutStage, symbolFor, tensorSize } from '../../../web/src/layout/shape-flow.js';
import { dimToPx } from '../../../web/src/layout/scale.js';

describe('tensorSize', () => {
  it('draws [rows, cols] as cols wide and rows tall', () => {
    expect(tensorSize([5, 768])).toEqual({ w: dimToPx(768), h: dimToPx(5), depth: 0 });
  });
  it('draws a vector as one row and leading axes as a stack (capped)', () => {
    expect(tensorSize([50257])).toEqual({ w: dimToPx(50257), h: dimToPx(1), depth: 0 });
    expect(tensorSize([2, 5, 64]).depth).toBe(1);
    expect(tensorSize([12, 5, 64]).depth).toBe(3);
  });
});

describe('layoutStage', () => {
  const qProj = layoutStage({
    op: 'matmul',
    operands: [
      { dims: [1024, 768], role: 'data', name: 'x' },
      { dims: [768, 64], role: 'weight', name: 'W_Q' },
    ],
    output: { dims: [1024, 64], role: 'data', name: 'q' },
  });

  it('labels every box with its exact dims: [1024, 768] x [768, 64] = [1024, 64]', () => {
    expect(qProj.boxes.map((b) => b.label)).toEqual(['[1024, 768]', '[768, 64]', '[1024, 64]']);
    expect(qProj.symbols.map((s) => s.text)).toEqual(['×', '=']);
    expect(qProj.boxes.map((b) => b.role)).toEqual(['data', 'weight', 'data']);
  });

  it('matches shared dimensions: x width = W height, output width = W width, output height = x height', () => {
    const [x, w, out] = qProj.boxes;
    expect(x.w).toBe(w.h);
    expect(out.w).toBe(w.w);
    expect(out.h).toBe(x.h);
  });

  it('places columns left to right without overlap, centred on one midline', () => {
    const [x, w, out] = qProj.boxes;
    expect(x.x + x.w).toBeLessThan(w.x);
    expect(w.x + w.w).toBeLessThan(out.x);
    expect(x.y + x.h / 2).toBeCloseTo(w.y + w.h / 2, 6);
    expect(qProj.width).toBeGreaterThanOrEqual(out.x + out.w);
    for (const b of qProj.boxes) expect(b.y + b.h).toBeLessThanOrEqual(qProj.height);
  });

  it('reserves label width for thin boxes so labels never overlap', () => {
    const l = layoutStage(
      {
        op: 'matmul',
        operands: [
          { dims: [1, 768], role: 'data' },
          { dims: [768, 50257], role: 'weight' },
        ],
        output: { dims: [1, 50257], role: 'data' },
      },
      { charPx: 7 },
    );
    for (let i = 1; i < l.boxes.length; i++) {
      const prev = l.boxes[i - 1];
      const cur = l.boxes[i];
      expect(prev.labelX + (prev.label.length * 7) / 2).toBeLessThanOrEqual(cur.labelX - (cur.label.length * 7) / 2);
    }
  });

  it('handles a stage without output (final token) and non-matmul ops', () => {
    const l = layoutStage({ op: 'softmax', operands: [{ dims: [12, 5, 5], role: 'data' }], output: null });
    expect(l.boxes).toHaveLength(1);
    expect(l.symbols).toHaveLength(0);
    expect(l.boxes[0].depth).toBe(3);
  });
});

describe('symbols and stacks', () => {
  it('uses + for sums and a comma for other multi-input ops', () => {
    expect(symbolFor('add', 0)).toBe('+');
    expect(symbolFor('rope', 0)).toBe(',');
    expect(symbolFor('lookup', 0)).toBe('→');
  });
  it('stacks per-head copies on top of leading axes', () => {
    expect(tensorSize([768, 64], undefined, 3, 12).depth).toBe(3);
    expect(tensorSize([768, 64], undefined, 3, 2).depth).toBe(1);
    expect(tensorSize([768, 64], undefined, 3, 1).depth).toBe(0);
  });
});
