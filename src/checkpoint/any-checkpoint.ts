// One entry point for every runnable checkpoint: read config.json's model_type and hand the folder to its family's
// inspector (gpt2 -> gpt2-checkpoint, llama/qwen2/qwen3/mistral -> llama-checkpoint). Other model_types are a 422
// that lists the runnable ones.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ModelDims, ModelFamily } from '../arch/model-dims.js';
import { type Gpt2Checkpoint, inspectGpt2Checkpoint } from './gpt2-checkpoint.js';
import {
  inspectLlamaCheckpoint,
  isLlamaModelType,
  LLAMA_MODEL_TYPES,
  type LlamaCheckpoint,
} from './llama-checkpoint.js';
import { CheckpointError } from './safetensors.js';

/** Every HF model_type the runtime can run (the architecture math knows more: /models/{name}/shapes). */
export const RUNNABLE_MODEL_TYPES: readonly string[] = ['gpt2', ...LLAMA_MODEL_TYPES];

export type AnyCheckpoint = { family: 'gpt2'; ckpt: Gpt2Checkpoint } | { family: 'llama'; ckpt: LlamaCheckpoint };

/** What the registry and the CLIs report about a checkpoint, whatever its family. */
export interface CheckpointSummary {
  family: ModelFamily;
  modelType: string;
  dims: ModelDims;
  config: Record<string, unknown>;
  dtype: string;
}

/** config.json's model_type (GPT-2 configs may omit it); throws CheckpointError for unreadable JSON. */
export async function readModelType(dir: string): Promise<unknown> {
  const file = path.join(dir, 'config.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new CheckpointError(`${file} does not exist or cannot be read.`, undefined, file);
  }
  try {
    const json = JSON.parse(text) as { model_type?: unknown } | null;
    return json?.model_type;
  } catch {
    throw new CheckpointError(`${file} is not valid JSON.`, undefined, file);
  }
}

/** Throws CheckpointError (422 invalid_checkpoint) naming the bad tensor, or listing the runnable model_types. */
export async function inspectCheckpoint(dir: string): Promise<AnyCheckpoint> {
  const type = await readModelType(dir);
  if (type === undefined || type === 'gpt2') return { family: 'gpt2', ckpt: await inspectGpt2Checkpoint(dir) };
  if (isLlamaModelType(type)) return { family: 'llama', ckpt: await inspectLlamaCheckpoint(dir) };
  const file = path.join(dir, 'config.json');
  throw new CheckpointError(
    `${file}: model_type ${JSON.stringify(type).slice(0, 80)} cannot run here; runnable model_types: ${RUNNABLE_MODEL_TYPES.join(', ')}.`,
    undefined,
    file,
  );
}

export function summarize(c: AnyCheckpoint): CheckpointSummary {
  if (c.family === 'gpt2')
    return { family: 'gpt2', modelType: 'gpt2', dims: c.ckpt.dims, config: { ...c.ckpt.config }, dtype: c.ckpt.dtype };
  return {
    family: 'llama',
    modelType: c.ckpt.spec.modelType,
    dims: c.ckpt.dims,
    config: { ...c.ckpt.config },
    dtype: c.ckpt.dtype,
  };
}
