import { describe, expect, it } from 'vitest';
import {
  formatCompact,
  formatCount,
  formatDims,
  formatProb,
  formatTick,
  showToken,
} from '../../../web/src/layout/format.js';

describe('format', () => {
  it('writes dims exactly, as in the shape-flow labels', () => {
    expect(formatDims([1024, 4096])).toBe('[1024, 4096]');
    expect(formatDims([12, 5, 64])).toBe('[12, 5, 64]');
    expect(formatDims([50257])).toBe('[50257]');
  });
  it('groups exact counts and compacts to three significant digits', () => {
    expect(formatCount(124439808)).toBe('124,439,808');
    expect(formatCompact(124439808)).toBe('124M');
    expect(formatCompact(8030261248)).toBe('8.03B');
    expect(formatCompact(1500)).toBe('1.5K');
    expect(formatCompact(671e9)).toBe('671B');
    expect(formatCompact(42)).toBe('42');
  });
  it('formats probabilities with useful precision', () => {
    expect(formatProb(0.4213)).toBe('42.1%');
    expect(formatProb(0.0213)).toBe('2.13%');
    expect(formatProb(0.000031)).toBe('0.0031%');
    expect(formatProb(0)).toBe('0%');
  });
  it('formats axis ticks', () => {
    expect(formatTick(0)).toBe('0');
    expect(formatTick(12.345)).toBe('12.3');
    expect(formatTick(250000)).toBe('2.5e+5');
  });
  it('makes whitespace in token texts visible', () => {
    expect(showToken(' Paris')).toBe('␣Paris');
    expect(showToken('a\nb')).toBe('a\\nb');
    expect(showToken('')).toBe('∅');
  });
});
