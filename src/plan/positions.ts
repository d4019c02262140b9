// Resolve the `positions` request field to absolute, ascending, distinct token positions.
import { badRequest } from '../errors/problem-error.js';

export type PositionsSpec = 'last' | 'all' | readonly number[];

/**
 * `length` = number of tokens the positions refer to. Negative entries count from the end
 * (-1 = last, -length = 0). Anything outside [-length, length) -> 400 `position_out_of_range`.
 */
export function resolvePositions(spec: PositionsSpec, length: number): number[] {
  if (length < 1) throw new RangeError('resolvePositions needs at least one token');
  if (spec === 'last') return [length - 1];
  if (spec === 'all') return Array.from({ length }, (_, i) => i);
  const bad = spec.filter((p) => !Number.isInteger(p) || p < -length || p >= length);
  if (bad.length > 0) {
    throw badRequest(
      'position_out_of_range',
      `Position${bad.length > 1 ? 's' : ''} ${bad.join(', ')} ${bad.length > 1 ? 'are' : 'is'} outside the prompt: ` +
        `it has ${length} token${length === 1 ? '' : 's'}, so positions must be in [${-length}, ${length - 1}].`,
      { positions: bad, n_tokens: length },
    );
  }
  return [...new Set(spec.map((p) => (p < 0 ? length + p : p)))].sort((a, b) => a - b);
}
