// GPT-2 checkpoint inspection: HF config.json + model.safetensors, every tensor's name, dtype and shape checked.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { ModelDims } from '../arch/model-dims.js';
import {
  CheckpointError,
  readSafetensorsHeader,
  type SafetensorsDtype,
  type SafetensorsHeader,
  type TensorInfo,
} from './safetensors.js';

export { CheckpointError } from './safetensors.js';

/** The fields of a Hugging Face GPT-2 config.json we use; other fields are kept but not interpreted. */
export const Gpt2HfConfigSchema = z
  .looseObject({
    model_type: z.literal('gpt2').optional(),
    n_layer: z.number().int().min(1).max(256),
    n_head: z.number().int().min(1).max(1024),
    n_embd: z.number().int().min(1).max(65536),
    n_positions: z
      .number()
      .int()
      .min(1)
      .max(1 << 20)
      .optional(),
    n_ctx: z
      .number()
      .int()
      .min(1)
      .max(1 << 20)
      .optional(),
    vocab_size: z
      .number()
      .int()
      .min(1)
      .max(1 << 24)
      .default(50257),
    n_inner: z.number().int().min(1).nullish(),
    layer_norm_epsilon: z.number().positive().max(1).default(1e-5),
    activation_function: z.literal('gelu_new').default('gelu_new'),
  })
  .refine((c) => c.n_embd % c.n_head === 0, { message: 'n_embd must be divisible by n_head', path: ['n_embd'] })
  .refine((c) => c.n_positions !== undefined || c.n_ctx !== undefined, {
    message: 'n_positions (or n_ctx) is required',
    path: ['n_positions'],
  });

export type Gpt2HfConfig = z.infer<typeof Gpt2HfConfigSchema>;

/** The weight dtypes the graph accepts (F16/BF16 are cast to float32 inside the graph). */
export type WeightDtype = Extract<SafetensorsDtype, 'F32' | 'F16' | 'BF16'>;
const WEIGHT_DTYPES: readonly SafetensorsDtype[] = ['F32', 'F16', 'BF16'];

export interface Gpt2Checkpoint {
  config: Gpt2HfConfig;
  dims: ModelDims;
  dtype: WeightDtype;
  /** Canonical name (no `transformer.` prefix, e.g. `h.0.attn.c_attn.weight`) -> where its bytes are. */
  tensors: Map<string, TensorInfo>;
  files: { dir: string; config: string; weights: string };
  /** The validated safetensors header (its text identifies the layout for graph caching). */
  header: SafetensorsHeader;
}

/** HF config -> TransformerLens-style dims. */
export function dimsFromConfig(c: Gpt2HfConfig): ModelDims {
  return Object.freeze({
    nLayer: c.n_layer,
    nHead: c.n_head,
    dModel: c.n_embd,
    dHead: c.n_embd / c.n_head,
    dMlp: c.n_inner ?? 4 * c.n_embd,
    dVocab: c.vocab_size,
    nCtx: (c.n_positions ?? c.n_ctx) as number,
    layerNormEps: c.layer_norm_epsilon,
  });
}

/** Every tensor a GPT-2 of these dims must hold, canonical name -> shape (Conv1D weights are [in, out]: y = x @ W + b). */
export function expectedGpt2Tensors(d: ModelDims): Map<string, number[]> {
  const m = new Map<string, number[]>();
  m.set('wte.weight', [d.dVocab, d.dModel]);
  m.set('wpe.weight', [d.nCtx, d.dModel]);
  for (let i = 0; i < d.nLayer; i++) {
    const h = `h.${i}`;
    m.set(`${h}.ln_1.weight`, [d.dModel]);
    m.set(`${h}.ln_1.bias`, [d.dModel]);
    m.set(`${h}.attn.c_attn.weight`, [d.dModel, 3 * d.dModel]);
    m.set(`${h}.attn.c_attn.bias`, [3 * d.dModel]);
    m.set(`${h}.attn.c_proj.weight`, [d.dModel, d.dModel]);
    m.set(`${h}.attn.c_proj.bias`, [d.dModel]);
    m.set(`${h}.ln_2.weight`, [d.dModel]);
    m.set(`${h}.ln_2.bias`, [d.dModel]);
    m.set(`${h}.mlp.c_fc.weight`, [d.dModel, d.dMlp]);
    m.set(`${h}.mlp.c_fc.bias`, [d.dMlp]);
    m.set(`${h}.mlp.c_proj.weight`, [d.dMlp, d.dModel]);
    m.set(`${h}.mlp.c_proj.bias`, [d.dModel]);
  }
  m.set('ln_f.weight', [d.dModel]);
  m.set('ln_f.bias', [d.dModel]);
  return m;
}

/** Buffers HF stores in some GPT-2 checkpoints that are not weights (the causal mask) and the tied head. */
const IGNORED = /^(h\.\d+\.attn\.(bias|masked_bias)|lm_head\.weight)$/;

const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/** Read config.json + model.safetensors in `dir` and validate them against each other; throws CheckpointError. */
export async function inspectGpt2Checkpoint(dir: string): Promise<Gpt2Checkpoint> {
  const configPath = path.join(dir, 'config.json');
  const weightsPath = path.join(dir, 'model.safetensors');
  const config = await readConfig(configPath);
  const dims = dimsFromConfig(config);
  const header = await readSafetensorsHeader(weightsPath);
  const expected = expectedGpt2Tensors(dims);

  const tensors = new Map<string, TensorInfo>();
  let dtype: WeightDtype | undefined;
  for (const t of header.tensors) {
    const name = t.name.startsWith('transformer.') ? t.name.slice('transformer.'.length) : t.name;
    const fail = (why: string) => new CheckpointError(`Tensor ${t.name}: ${why}.`, t.name, weightsPath);
    if (IGNORED.test(name)) {
      if (name === 'lm_head.weight' && !sameShape(t.shape, [dims.dVocab, dims.dModel])) {
        throw fail(`expected shape [${dims.dVocab}, ${dims.dModel}] (tied to wte), got [${t.shape.join(', ')}]`);
      }
      continue;
    }
    const shape = expected.get(name);
    if (!shape) throw fail(`not a GPT-2 weight for a ${dims.nLayer}-layer model (unexpected tensor)`);
    if (tensors.has(name)) throw fail(`appears twice (with and without the transformer. prefix)`);
    if (!WEIGHT_DTYPES.includes(t.dtype)) throw fail(`dtype ${t.dtype} is not supported; expected F32, F16 or BF16`);
    dtype ??= t.dtype as WeightDtype;
    if (t.dtype !== dtype)
      throw fail(`dtype ${t.dtype} differs from the checkpoint's ${dtype}; all weights must share one dtype`);
    if (!sameShape(t.shape, shape))
      throw fail(`expected shape [${shape.join(', ')}] for this config, got [${t.shape.join(', ')}]`);
    tensors.set(name, t);
  }
  for (const name of expected.keys()) {
    if (!tensors.has(name))
      throw new CheckpointError(`Tensor ${name} is missing from ${weightsPath}.`, name, weightsPath);
  }
  return {
    config,
    dims,
    dtype: dtype as WeightDtype,
    tensors,
    files: { dir, config: configPath, weights: weightsPath },
    header,
  };
}

async function readConfig(configPath: string): Promise<Gpt2HfConfig> {
  let text: string;
  try {
    text = await readFile(configPath, 'utf8');
  } catch {
    throw new CheckpointError(`${configPath} does not exist or cannot be read.`, undefined, configPath);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CheckpointError(`${configPath} is not valid JSON.`, undefined, configPath);
  }
  const parsed = Gpt2HfConfigSchema.safeParse(json);
  if (!parsed.success) {
    const why = parsed.error.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`).join('; ');
    throw new CheckpointError(`${configPath} is not a GPT-2 config: ${why}.`, undefined, configPath);
  }
  return parsed.data;
}
