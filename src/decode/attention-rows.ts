// Attention pattern rows at chosen query positions: the causal part (key_pos 0..q) of each head's row.
import type { Activation } from '../runtime/types.js';
import type { AttentionLayer } from '../schemas/trace.js';

/**
 * `act` is blocks.{layer}.attn.hook_pattern: [head, query_pos (new tokens), key_pos (past + new)].
 * `offset` = absolute position of the first new token. For query position q the row is
 * pattern[h, q - offset, 0..q]; entries after q are the causal mask's zeros and are left out. A row is a view on
 * `act.data`, not a copy: it crosses threads with the activation and is written to JSON by src/json/json-bytes.ts.
 */
export function attentionRows(
  act: Activation,
  layer: number,
  positions: readonly number[],
  offset: number,
): AttentionLayer {
  const [nHead, nQuery, nKey] = act.dims;
  const heads: AttentionLayer['heads'] = [];
  for (let h = 0; h < nHead; h++) {
    const rows: Float32Array[] = [];
    for (const q of positions) {
      const r = q - offset;
      if (r < 0 || r >= nQuery || q >= nKey)
        throw new RangeError(`${act.hook}: query position ${q} is not in this forward pass`);
      const start = (h * nQuery + r) * nKey;
      rows.push(act.data.subarray(start, start + q + 1)); // [key_pos 0..q]
    }
    heads.push({ head: h, rows });
  }
  return { layer, hook: act.hook, query_positions: [...positions], heads };
}

/** Number of values attentionRows returns: n_head * sum(q + 1). */
export function attentionValueCount(nHead: number, positions: readonly number[]): number {
  let n = 0;
  for (const q of positions) n += q + 1;
  return nHead * n;
}
