// The onnxruntime boundary: feeds checked against session.inputNames, fetches against the outputs, typed failures.
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { ProblemError } from '../errors/problem-error.js';

/** Minimal structured logger (pino, Fastify's request.log and app.log all fit). */
export interface RuntimeLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** A failure inside the model runtime that is our fault, not the caller's: becomes a 500 with a stable code. */
export class ModelRunError extends ProblemError {
  override name = 'ModelRunError';
  constructor(
    detail: string,
    readonly model: string,
  ) {
    super(500, 'model_run_failed', 'Internal server error', detail);
  }
}

const describe = (feeds: Record<string, Tensor>) =>
  Object.entries(feeds).map(([name, t]) => ({ name, type: t.type, dims: t.dims }));

/**
 * session.run with the contract checked first (transformers.js' sessionRun habit): every input fed and
 * nothing else, every fetch a real output. On failure logs names/types/dims (never data) and throws ModelRunError.
 */
export async function guardedRun(
  session: InferenceSession,
  feeds: Record<string, Tensor>,
  fetches: readonly string[],
  ctx: { model: string; graph: string; logger?: RuntimeLogger },
): Promise<InferenceSession.OnnxValueMapType> {
  const missing = session.inputNames.filter((n) => !(n in feeds));
  const extra = Object.keys(feeds).filter((n) => !session.inputNames.includes(n));
  const unknown = fetches.filter((n) => !session.outputNames.includes(n));
  if (missing.length || extra.length || unknown.length) {
    ctx.logger?.error(
      { model: ctx.model, graph: ctx.graph, missing, extra, unknown, feeds: describe(feeds) },
      'onnxruntime feeds/fetches do not match the graph',
    );
    throw new ModelRunError(
      `The ${ctx.graph} graph of ${ctx.model} was called with mismatched inputs or outputs.`,
      ctx.model,
    );
  }
  try {
    return await session.run(feeds, [...fetches]);
  } catch (err) {
    ctx.logger?.error(
      { model: ctx.model, graph: ctx.graph, feeds: describe(feeds), fetches: fetches.length, err },
      'onnxruntime run failed',
    );
    throw new ModelRunError(`The ${ctx.graph} graph of ${ctx.model} failed to run.`, ctx.model);
  }
}
