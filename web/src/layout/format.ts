// Number formatting for labels: exact dims, grouped counts, compact counts, probabilities.

/** `[1024, 4096]`: exact dimensions, no separators, as written in papers and in the shape flow. */
export function formatDims(dims: readonly number[]): string {
  return `[${dims.join(', ')}]`;
}

/** 124439808 -> "124,439,808" (exact, for tables). */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** 124439808 -> "124.4M", 8030261248 -> "8.03B": three significant digits. */
export function formatCompact(n: number): string {
  const abs = Math.abs(n);
  const units: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'B'],
    [1e6, 'M'],
    [1e3, 'K'],
  ];
  for (const [v, u] of units) if (abs >= v) return `${trim3(n / v)}${u}`;
  return String(Math.round(n));
}

function trim3(x: number): string {
  const s = Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2);
  return s.replace(/\.0+$/, '').replace(/(\.\d*?)0+$/, '$1');
}

/** 0.4213 -> "42.1%", tiny values keep two significant digits ("0.0031%"). */
export function formatProb(p: number): string {
  const pct = p * 100;
  if (pct >= 10) return `${pct.toFixed(1)}%`;
  if (pct >= 0.1) return `${pct.toFixed(2)}%`;
  if (pct === 0) return '0%';
  return `${pct.toPrecision(2)}%`;
}

/** Short number for axes: 3 significant digits, exponent form outside [1e-3, 1e5). */
export function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(1);
  return String(Number(v.toPrecision(3)));
}

/** Make a token's text visible: leading space as a dot-like marker, newlines and tabs escaped. */
export function showToken(text: string): string {
  if (text === '') return '∅';
  return text.replace(/\n/g, '\\n').replace(/\t/g, '\\t').replace(/^ /, '␣');
}
