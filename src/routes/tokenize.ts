// POST /tokenize: text -> GPT-2 BPE token ids and token texts (no model is loaded).
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { ProblemSchema } from '../schemas/problem.js';
import { TokenizeRequestSchema, TokenizeResponseSchema } from '../schemas/tokenize.js';
import { encode } from '../tokenizer/gpt2-tokenizer.js';
import { tokenText } from '../trace/next-token.js';

const tokenizeRoutes: FastifyPluginAsync = async (app) => {
  app.withTypeProvider<ZodTypeProvider>().post(
    '/tokenize',
    {
      schema: {
        tags: ['trace'],
        summary: 'Tokenize text with the GPT-2 tokenizer',
        description:
          'Byte-level BPE (r50k_base) exactly as the Hugging Face GPT-2 tokenizer, no BOS added. Token texts keep their ' +
          'leading spaces; a token whose bytes are not valid UTF-8 alone is shown as \\xNN escapes.',
        body: TokenizeRequestSchema,
        response: { 200: TokenizeResponseSchema, 400: ProblemSchema, 404: ProblemSchema, 409: ProblemSchema },
      },
    },
    async (request) => {
      // Every runnable model is a GPT-2 checkpoint sharing this tokenizer; the name is still checked.
      const model = app.models.resolve(request.body.model ?? app.models.defaultName).name;
      const ids = encode(request.body.text);
      return {
        model,
        ids,
        tokens: ids.map((id, position) => ({ id, text: tokenText(id), position })),
        count: ids.length,
      };
    },
  );
};
export default tokenizeRoutes;
