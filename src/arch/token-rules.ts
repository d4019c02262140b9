// The rules on token ids and the context, one home each: every layer (request plan, runtime, interventions,
// attribution, metrics) calls these, so one rule answers one code wherever it is broken.
import { badRequest, type ProblemError } from '../errors/problem-error.js';

/**
 * Every id an integer in [0, dVocab): else 400 `token_id_out_of_range` listing the first bad ids.
 * `field` names the request field when the ids are not the prompt's.
 */
export function assertTokenIds(ids: readonly number[], dVocab: number, field?: string): void {
  const bad = ids.filter((id) => !Number.isInteger(id) || id < 0 || id >= dVocab);
  if (bad.length === 0) return;
  const where = field ? `${field}: token` : 'Token';
  throw badRequest(
    'token_id_out_of_range',
    `${where} id${bad.length > 1 ? 's' : ''} ${bad.slice(0, 5).join(', ')}${bad.length > 5 ? ', ...' : ''} ` +
      `${bad.length > 1 ? 'are' : 'is'} outside the vocabulary: ids must be in [0, ${dVocab - 1}].`,
    { ...(field ? { field } : {}), token_ids: bad.slice(0, 100), d_vocab: dVocab },
  );
}

/**
 * `nTokens` tokens (cached + new, or prompt + continuation) within the context: else 400 `prompt_too_long`
 * with `what` spelling the count ("5 prompt tokens + 3 new tokens = 8").
 */
export function assertFitsContext(
  nTokens: number,
  nCtx: number,
  model: string,
  what: string,
  extra: Record<string, unknown> = {},
): void {
  if (nTokens > nCtx) throw promptTooLong(model, nCtx, what, extra);
}

/** The 400 `prompt_too_long` itself (for a count known to be over without adding it up). */
export function promptTooLong(
  model: string,
  nCtx: number,
  what: string,
  extra: Record<string, unknown> = {},
): ProblemError {
  return badRequest(
    'prompt_too_long',
    `The prompt is too long for ${model}: ${what}, but its context (n_ctx) is ${nCtx}.`,
    {
      ...extra,
      n_ctx: nCtx,
    },
  );
}
