// Baseline vs intervened: per-hook deltas and the metric at the last position. Pure functions over activations.
import { singleTokenId } from '../tokenizer/token-ref.js';
import type { Metric } from '../schemas/interventions.js';
import type { Activation } from '../runtime/types.js';

/** Resolve a metric's token texts to ids up front (before anything runs). */
export function metricIds(m: Metric, encode: (t: string) => number[]): number[] {
  const one = (t: string, field: string) => singleTokenId(t, encode, field, 'metric_token_not_single');
  if (m.kind === 'logit_diff') return m.tokens.map((t, i) => one(t, `metric.tokens[${i}]`));
  if (m.kind === 'kl') return [];
  return [one(m.token, 'metric.token')];
}

/** log-softmax of one logits row, in float64. */
function logSoftmax(row: Float32Array): Float64Array {
  let max = Number.NEGATIVE_INFINITY;
  for (let v = 0; v < row.length; v++) if (row[v] > max) max = row[v];
  let sum = 0;
  for (let v = 0; v < row.length; v++) sum += Math.exp(row[v] - max);
  const lse = max + Math.log(sum);
  const out = new Float64Array(row.length);
  for (let v = 0; v < row.length; v++) out[v] = row[v] - lse;
  return out;
}

/** The metric on one logits row [d_vocab]; `base` is the baseline row (kl only). */
export function metricValue(m: Metric, ids: readonly number[], row: Float32Array, base: Float32Array): number {
  switch (m.kind) {
    case 'logit_diff':
      return row[ids[0]] - row[ids[1]];
    case 'prob':
      return Math.exp(logSoftmax(row)[ids[0]]);
    case 'logprob':
      return logSoftmax(row)[ids[0]];
    case 'kl': {
      // KL(baseline || intervened) = sum p_b (log p_b - log p_i)
      const lb = logSoftmax(base);
      const li = logSoftmax(row);
      let kl = 0;
      for (let v = 0; v < lb.length; v++) if (lb[v] > Number.NEGATIVE_INFINITY) kl += Math.exp(lb[v]) * (lb[v] - li[v]);
      return Math.max(0, kl);
    }
  }
}

/**
 * |intervened - baseline| of one hook over the selected positions (the position axis is axis 0 for activations,
 * axis 1 for attention scores / patterns [head, query_pos, key_pos]).
 */
export function hookDelta(a: Activation, b: Activation, positions: readonly number[], posAxis: 0 | 1) {
  const dims = a.dims;
  const inner = dims.slice(posAxis + 1).reduce((x, y) => x * y, 1);
  const outer = posAxis === 0 ? 1 : dims[0];
  const nPos = dims[posAxis];
  let sq = 0;
  let base = 0;
  let maxAbs = 0;
  for (let o = 0; o < outer; o++)
    for (const p of positions) {
      const start = (o * nPos + p) * inner;
      for (let j = start; j < start + inner; j++) {
        const x = a.data[j];
        const y = b.data[j];
        if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
        const d = x - y;
        sq += d * d;
        base += y * y;
        if (Math.abs(d) > maxAbs) maxAbs = Math.abs(d);
      }
    }
  return { hook: a.hook, l2_norm: Math.sqrt(sq), max_abs: maxAbs, baseline_l2_norm: Math.sqrt(base) };
}
