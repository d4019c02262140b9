// A token named in a request (attribution targets, metric tokens): an id in the vocabulary, or a text that is
// exactly one token of the model's tokenizer. The one home of that rule.
import { assertTokenIds } from '../arch/token-rules.js';
import { badRequest } from '../errors/problem-error.js';
import { GPT2_TOKENIZER, type ModelTokenizer } from './model-tokenizer.js';

/**
 * The one id a text encodes to; else 400 naming `field`, code `notOne` (`not_one_token`; metrics keep their
 * published `metric_token_not_single`).
 */
export function singleTokenId(
  text: string,
  encode: (t: string) => number[],
  field: string,
  notOne = 'not_one_token',
): number {
  const ids = encode(text);
  if (ids.length !== 1)
    throw badRequest(
      notOne,
      `${field}: ${JSON.stringify(text)} is ${ids.length} tokens for this model (${ids.join(', ')}); give exactly one ` +
        'token, e.g. with its leading space (" Paris"), or its id.',
      { field, token_ids: ids },
    );
  return ids[0] as number;
}

/** An id (checked against the vocabulary: `token_id_out_of_range`) or a one-token text -> its id. */
export function resolveTokenRef(
  ref: string | number,
  dVocab: number,
  field: string,
  tokenizer: ModelTokenizer = GPT2_TOKENIZER,
): number {
  if (typeof ref === 'string') return singleTokenId(ref, (t) => tokenizer.encode(t), field);
  assertTokenIds([ref], dVocab, field);
  return ref;
}
