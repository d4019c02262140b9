// Resolve the `positions` request field to absolute, ascending, distinct token positions.
import { badRequest } from '../errors/problem-error.js';

export type PositionsSpec = 'last' | 'all' | readonly number[] | { readonly last: number };

/** At most this many positions are spelt out in an error sentence (the reply's `positions` field has them all). */
const LISTED_POSITIONS = 8;

const listPositions = (ps: readonly number[]) =>
  ps.length <= LISTED_POSITIONS
    ? ps.join(', ')
    : `${ps.slice(0, LISTED_POSITIONS).join(', ')} … (${ps.length - LISTED_POSITIONS} more)`;

/**
 * `length` = number of tokens the positions refer to. Negative entries count from the end
 * (-1 = last, -length = 0). Anything outside [-length, length) -> 400 `position_out_of_range`.
 */
export function resolvePositions(spec: PositionsSpec, length: number): number[] {
  if (length < 1) throw new RangeError('resolvePositions needs at least one token');
  if (spec === 'last') return [length - 1];
  if (spec === 'all') return Array.from({ length }, (_, i) => i);
  if (!Array.isArray(spec)) {
    // {"last": n}: clipped to the prompt, never an error.
    const n = Math.min(length, (spec as { last: number }).last);
    return Array.from({ length: n }, (_, i) => length - n + i);
  }
  const bad = spec.filter((p) => !Number.isInteger(p) || p < -length || p >= length);
  if (bad.length > 0) {
    throw badRequest(
      'position_out_of_range',
      `Position${bad.length > 1 ? 's' : ''} ${listPositions(bad)} ${bad.length > 1 ? 'are' : 'is'} outside the prompt: ` +
        `it has ${length} token${length === 1 ? '' : 's'}, so positions must be in [${-length}, ${length - 1}].`,
      { positions: bad.slice(0, 4096), n_tokens: length },
    );
  }
  return [...new Set(spec.map((p) => (p < 0 ? length + p : p)))].sort((a, b) => a - b);
}
