import { describe, expect, it } from 'vitest';
import { luminance, probColour, sequentialBlue, textOn } from '../../../web/src/layout/colour.js';

describe('colour scales', () => {
  it('sequentialBlue runs from near-white to deep blue through the stops', () => {
    expect(sequentialBlue(0)).toBe('#f7fbff');
    expect(sequentialBlue(1)).toBe('#08306b');
    expect(sequentialBlue(0.5)).toBe('#6baed6');
    // halfway between the first two stops: (247+198)/2=222.5 -> de, (251+219)/2=235 -> eb, (255+239)/2=247 -> f7
    expect(sequentialBlue(0.125)).toBe('#dfebf7');
  });
  it('clamps and treats NaN as 0', () => {
    expect(sequentialBlue(-3)).toBe('#f7fbff');
    expect(sequentialBlue(7)).toBe('#08306b');
    expect(sequentialBlue(Number.NaN)).toBe('#f7fbff');
  });
  it('gets darker as probability grows (sqrt stretch)', () => {
    const ps = [0, 0.01, 0.1, 0.5, 1];
    const l = ps.map((p) => luminance(probColour(p)));
    for (let i = 1; i < l.length; i++) expect(l[i]).toBeLessThan(l[i - 1]);
    expect(probColour(0.25)).toBe(sequentialBlue(0.5));
  });
  it('picks readable text on light and dark cells', () => {
    expect(textOn('#f7fbff')).toBe('#111827');
    expect(textOn('#08306b')).toBe('#ffffff');
    expect(luminance('#ffffff')).toBeCloseTo(1, 10);
    expect(luminance('#000000')).toBe(0);
  });
});
