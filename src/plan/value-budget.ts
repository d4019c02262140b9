// Count the raw values a trace would return, before running it, to enforce MAX_RETURNED_VALUES.
import { dimSize, parseHookName } from '../hooks/catalogue.js';
import { familyOf, type ModelDims } from '../arch/model-dims.js';
import { payloadTooLarge } from '../errors/problem-error.js';
import { attentionValueCount } from '../decode/attention-rows.js';

/**
 * Raw numbers in the response: every hook's slice when detail=full, plus the attention rows of every
 * selected attn.hook_pattern (those are returned at any detail).
 */
export function countReturnedValues(
  hooks: readonly string[],
  dims: ModelDims,
  positions: readonly number[],
  nTokens: number,
  full: boolean,
): number {
  let total = 0;
  for (const name of hooks) {
    const parsed = parseHookName(name, dims.nLayer, familyOf(dims));
    if (!parsed) continue;
    if (full)
      total += parsed.site.dims.reduce(
        (acc, d) => acc * dimSize(d, dims, { pos: positions.length, keyPos: nTokens }),
        1,
      );
    if (parsed.site.pattern) total += attentionValueCount(dims.nHead, positions);
  }
  return total;
}

/** Throw 413 `too_many_values` when the count is over the cap (checked before any forward pass). */
export function assertWithinBudget(count: number, cap: number): void {
  if (count <= cap) return;
  throw payloadTooLarge(
    'too_many_values',
    `This trace would return ${count.toLocaleString('en-US')} raw values (detail=full slices and attention rows), ` +
      `over the server cap of ${cap.toLocaleString('en-US')} (MAX_RETURNED_VALUES). Select fewer hooks or positions ` +
      `(e.g. "positions": "last"), or use "detail": "summary".`,
    { values: count, max_values: cap },
  );
}
