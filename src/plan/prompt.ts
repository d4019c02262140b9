// A request's prompt -> token ids, and the length rules (server cap, the model's context), before anything runs.
import { assertFitsContext, assertTokenIds, promptTooLong } from '../arch/token-rules.js';
import { badRequest } from '../errors/problem-error.js';
import type { RunnableModelInfo } from '../plugins/model-registry.js';
import { GPT2_TOKENIZER, type ModelTokenizer } from '../tokenizer/model-tokenizer.js';

/** The prompt fields every request shares: exactly one of them. */
export interface PromptInput {
  prompt?: string;
  token_ids?: readonly number[];
}

/**
 * Prompt -> token ids, with the request rules: exactly one of prompt / token_ids, non-empty, ids in the vocabulary.
 * A prompt that provably needs more than the model's `nCtx` tokens is refused (`prompt_too_long`) without
 * tokenizing it whole.
 */
export function promptTokens(
  req: PromptInput,
  dVocab: number,
  context: { model: string; nCtx: number },
  tokenizer: ModelTokenizer = GPT2_TOKENIZER,
): number[] {
  if (req.prompt !== undefined && req.token_ids !== undefined) {
    throw badRequest('prompt_and_token_ids', 'Send either "prompt" or "token_ids", not both.');
  }
  if (req.prompt === undefined && req.token_ids === undefined) {
    throw badRequest('missing_prompt', 'Send a "prompt" (text) or "token_ids" (GPT-2 token ids).');
  }
  const ids = req.prompt !== undefined ? promptIds(req.prompt, context, tokenizer) : [...(req.token_ids as number[])];
  if (ids.length === 0) throw badRequest('empty_prompt', 'The prompt is empty: it needs at least one token.');
  assertTokenIds(ids, dVocab);
  return ids;
}

function promptIds(prompt: string, { model, nCtx }: { model: string; nCtx: number }, tokenizer: ModelTokenizer) {
  const r = tokenizer.encodeBounded(prompt, nCtx);
  if (r.over) throw promptTooLong(model, nCtx, `it needs more than ${nCtx} tokens`);
  return r.ids;
}

/** Length rules: max_new_tokens within the server cap, prompt + continuation within n_ctx. */
export function checkLengths(
  nTokens: number,
  maxNewTokens: number,
  info: Pick<RunnableModelInfo, 'name' | 'dims'>,
  cap: number,
): void {
  if (maxNewTokens > cap) {
    throw badRequest(
      'too_many_new_tokens',
      `max_new_tokens is ${maxNewTokens}, over the server cap of ${cap} (MAX_NEW_TOKENS).`,
      { max_new_tokens: maxNewTokens, cap },
    );
  }
  const what =
    maxNewTokens > 0
      ? `${nTokens} prompt tokens + ${maxNewTokens} new tokens = ${nTokens + maxNewTokens}`
      : `${nTokens} tokens`;
  assertFitsContext(nTokens + maxNewTokens, info.dims.nCtx, info.name, what, {
    n_tokens: nTokens,
    max_new_tokens: maxNewTokens,
  });
}
