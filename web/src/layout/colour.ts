// Colour scales: data blue, weights grey, a sequential blue for probabilities and attention weights.

/** The two roles of the shape flow, as in the classic matmul drawings: data (tensors) blue, weights grey. */
export const DATA_FILL = '#a9cdf0';
export const DATA_STROKE = '#2f6fb3';
export const WEIGHT_FILL = '#d4d6da';
export const WEIGHT_STROKE = '#6b7280';

type Rgb = readonly [number, number, number];

/** Stops of the sequential scale, light (0) to dark (1): near-white -> sky -> deep blue. */
const BLUE_STOPS: readonly Rgb[] = [
  [247, 251, 255],
  [198, 219, 239],
  [107, 174, 214],
  [33, 113, 181],
  [8, 48, 107],
];

function clamp01(t: number): number {
  return Number.isFinite(t) ? Math.min(1, Math.max(0, t)) : 0;
}

function lerpStops(stops: readonly Rgb[], t: number): Rgb {
  const x = clamp01(t) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const a = stops[i];
  const b = stops[i + 1];
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

function hex(c: Rgb): string {
  return `#${c.map((v) => Math.round(v).toString(16).padStart(2, '0')).join('')}`;
}

/** t in [0, 1] -> sequential blue (0 is almost white). NaN maps to 0. */
export function sequentialBlue(t: number): string {
  return hex(lerpStops(BLUE_STOPS, t));
}

/**
 * A probability -> colour. sqrt stretches the low end so 2% and 10% differ visibly,
 * which matters for attention weights and logit-lens rows where most mass is small.
 */
export function probColour(p: number): string {
  return sequentialBlue(Math.sqrt(clamp01(p)));
}

/** Relative luminance (WCAG) of a #rrggbb colour. */
export function luminance(colour: string): number {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(colour);
  if (!m) return 1;
  const lin = [m[1], m[2], m[3]].map((h) => {
    const c = parseInt(h, 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2];
}

/** Text colour with the better WCAG contrast on the given background. */
export function textOn(background: string): '#111827' | '#ffffff' {
  const l = luminance(background);
  const dark = (l + 0.05) / (luminance('#111827') + 0.05);
  const light = 1.05 / (l + 0.05);
  return dark >= light ? '#111827' : '#ffffff';
}
