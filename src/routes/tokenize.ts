// POST /tokenize: text -> the model's token ids and token texts (no model is loaded).
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { ProblemSchema } from '../schemas/problem.js';
import { TokenizeRequestSchema, TokenizeResponseSchema } from '../schemas/tokenize.js';
import { badRequest } from '../errors/problem-error.js';
import { tokenText } from '../tokenizer/token-text.js';

const tokenizeRoutes: FastifyPluginAsync = async (app) => {
  app.withTypeProvider<ZodTypeProvider>().post(
    '/tokenize',
    {
      schema: {
        tags: ['trace'],
        summary: "Tokenize text with the model's tokenizer",
        description:
          'GPT-2 models: byte-level BPE (r50k_base) exactly as the Hugging Face GPT-2 tokenizer, no BOS added. Llama-family ' +
          "models: the model folder's tokenizer.json with its special tokens (bos_prepended says whether BOS was put in " +
          'front). Token texts keep their leading spaces; a GPT-2 token whose bytes are not valid UTF-8 alone is shown as ' +
          '\\xNN escapes.',
        body: TokenizeRequestSchema,
        response: {
          200: TokenizeResponseSchema,
          400: ProblemSchema,
          404: ProblemSchema,
          409: ProblemSchema,
          422: ProblemSchema,
        },
      },
    },
    async (request) => {
      await app.models.refresh(request.body.model ?? app.models.defaultName); // a model imported after start
      const info = app.models.resolve(request.body.model ?? app.models.defaultName);
      const tok = info.tokenizer;
      const cap = app.config.TOKENIZE_MAX_TOKENS;
      const r = tok.encodeBounded(request.body.text, cap);
      if (r.over) {
        throw badRequest(
          'text_too_long',
          `The text needs more than ${cap} tokens, the most one /tokenize answer holds (TOKENIZE_MAX_TOKENS).`,
          { max_tokens: cap },
        );
      }
      const { ids } = r;
      return {
        model: info.name,
        ids,
        tokens: ids.map((id, position) => ({ id, text: tokenText(id, tok), position })),
        count: ids.length,
        tokenizer: tok.kind,
        bos_prepended: tok.prependsBos && ids[0] === tok.bosId,
      };
    },
  );
};
export default tokenizeRoutes;
