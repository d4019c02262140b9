// Line chart geometry: points, an SVG path and y ticks for a per-layer series (e.g. residual-stream norm).
import { linear, niceTicks } from './scale.js';

export interface LineChartInput {
  values: readonly number[];
  width: number;
  height: number;
  pad: { left: number; right: number; top: number; bottom: number };
  /** Include 0 on the y axis (norms are non-negative; starting at 0 avoids exaggerating growth). */
  zeroBased?: boolean;
}

export interface LineChartGeometry {
  points: { x: number; y: number; value: number; index: number }[];
  path: string;
  yTicks: { y: number; value: number }[];
  xTicks: { x: number; index: number }[];
}

export function lineChart(input: LineChartInput): LineChartGeometry {
  const { values, width, height, pad } = input;
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return { points: [], path: '', yTicks: [], xTicks: [] };
  const lo = input.zeroBased ? Math.min(0, ...finite) : Math.min(...finite);
  const hi = Math.max(...finite);
  const ticks = niceTicks(lo, hi === lo ? lo + 1 : hi, 4);
  const yMin = ticks[0];
  const yMax = ticks[ticks.length - 1];
  const x = linear(0, Math.max(1, values.length - 1), pad.left, width - pad.right);
  const y = linear(yMin, yMax, height - pad.bottom, pad.top);
  const points = values
    .map((value, index) => ({ x: x(index), y: y(value), value, index }))
    .filter((p) => Number.isFinite(p.value));
  const path = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join('');
  const step = Math.max(1, Math.ceil(values.length / 12));
  const xTicks = values.map((_, index) => ({ x: x(index), index })).filter((t) => t.index % step === 0);
  return { points, path, yTicks: ticks.map((value) => ({ y: y(value), value })), xTicks };
}
