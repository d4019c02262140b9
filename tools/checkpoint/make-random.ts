// Deterministic random GPT-2 checkpoints in Hugging Face layout (config.json + model.safetensors), any size, fp32 or fp16.
// Usage: tsx tools/checkpoint/make-random.ts --out DIR [--preset gpt2|tiny|distilgpt2|gpt2-medium|gpt2-large|gpt2-xl]
//        [--layers N --d-model D --heads H --ctx C --vocab V] [--dtype F32|F16] [--seed S]
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSafetensors, type TensorToWrite } from '../../src/checkpoint/safetensors.js';
import { expectedGpt2Tensors, dimsFromConfig, Gpt2HfConfigSchema } from '../../src/checkpoint/gpt2-checkpoint.js';

export interface RandomGpt2Options {
  nLayer: number;
  nHead: number;
  dModel: number;
  nCtx: number;
  vocab: number;
  dtype: 'F32' | 'F16';
  seed: number;
}

/** Shapes of the real GPT-2 family (random weights, real sizes) plus the tiny test model. */
export const RANDOM_PRESETS: Record<string, Omit<RandomGpt2Options, 'dtype' | 'seed'>> = {
  tiny: { nLayer: 3, nHead: 4, dModel: 32, nCtx: 64, vocab: 50257 },
  distilgpt2: { nLayer: 6, nHead: 12, dModel: 768, nCtx: 1024, vocab: 50257 },
  gpt2: { nLayer: 12, nHead: 12, dModel: 768, nCtx: 1024, vocab: 50257 }, // 124,439,808 parameters
  'gpt2-medium': { nLayer: 24, nHead: 16, dModel: 1024, nCtx: 1024, vocab: 50257 },
  'gpt2-large': { nLayer: 36, nHead: 20, dModel: 1280, nCtx: 1024, vocab: 50257 },
  'gpt2-xl': { nLayer: 48, nHead: 25, dModel: 1600, nCtx: 1024, vocab: 50257 },
};

/** mulberry32: tiny, fast, deterministic across platforms (only 32-bit integer math). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples via Box-Muller on the seeded uniform stream. */
function normalFill(out: Float32Array, rand: () => number, mean: number, std: number): Float32Array {
  for (let i = 0; i < out.length; i += 2) {
    const u = 1 - rand(); // (0, 1]: log(u) finite
    const v = rand();
    const r = Math.sqrt(-2 * Math.log(u));
    out[i] = mean + std * r * Math.cos(2 * Math.PI * v);
    if (i + 1 < out.length) out[i + 1] = mean + std * r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

/**
 * How each tensor is drawn. GPT-2 init is N(0, 0.02); we deviate on purpose where a real model's
 * structure matters for catching bugs: LayerNorm gains 1 ± 0.1 and biases N(0, 0.05) so a dropped gain
 * or bias changes every hook, and larger Q/K weights on tiny models so attention patterns are far from uniform.
 */
function initFor(name: string, dModel: number): { mean: number; std: number } {
  if (/ln_\d\.weight$|ln_f\.weight$/.test(name)) return { mean: 1, std: 0.1 };
  if (/ln_\d\.bias$|ln_f\.bias$/.test(name)) return { mean: 0, std: 0.05 };
  if (name.endsWith('.bias')) return { mean: 0, std: 0.02 };
  if (name.endsWith('attn.c_attn.weight') && dModel < 256) return { mean: 0, std: 0.25 };
  if (name === 'wte.weight' && dModel < 256) return { mean: 0, std: 0.1 };
  return { mean: 0, std: 0.02 };
}

export async function makeRandomGpt2(dir: string, o: RandomGpt2Options): Promise<void> {
  const config = Gpt2HfConfigSchema.parse({
    model_type: 'gpt2',
    architectures: ['GPT2LMHeadModel'],
    n_layer: o.nLayer,
    n_head: o.nHead,
    n_embd: o.dModel,
    n_positions: o.nCtx,
    n_ctx: o.nCtx,
    vocab_size: o.vocab,
    n_inner: null,
    layer_norm_epsilon: 1e-5,
    activation_function: 'gelu_new',
  });
  const rand = mulberry32(o.seed);
  const tensors: TensorToWrite[] = [];
  for (const [name, shape] of expectedGpt2Tensors(dimsFromConfig(config))) {
    const numel = shape.reduce((a, b) => a * b, 1);
    const { mean, std } = initFor(name, o.dModel);
    tensors.push({ name, shape, dtype: o.dtype, data: normalFill(new Float32Array(numel), rand, mean, std) });
  }
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  await writeSafetensors(path.join(dir, 'model.safetensors'), tensors, {
    format: 'pt',
    generator: `tools/checkpoint/make-random.ts seed=${o.seed}`,
  });
}

function parseArgs(argv: string[]): { out: string; opts: RandomGpt2Options } {
  const args = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) args.set(argv[i].replace(/^--/, ''), argv[i + 1] ?? '');
  const out = args.get('out');
  if (!out) throw new Error('--out DIR is required');
  const preset = RANDOM_PRESETS[args.get('preset') ?? 'tiny'];
  if (!preset) throw new Error(`unknown preset; use one of ${Object.keys(RANDOM_PRESETS).join(', ')}`);
  const num = (k: string, d: number) => (args.has(k) ? Number(args.get(k)) : d);
  const dtype = (args.get('dtype') ?? 'F32').toUpperCase();
  if (dtype !== 'F32' && dtype !== 'F16') throw new Error('--dtype must be F32 or F16');
  return {
    out,
    opts: {
      nLayer: num('layers', preset.nLayer),
      nHead: num('heads', preset.nHead),
      dModel: num('d-model', preset.dModel),
      nCtx: num('ctx', preset.nCtx),
      vocab: num('vocab', preset.vocab),
      dtype,
      seed: num('seed', 1234),
    },
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { out, opts } = parseArgs(process.argv.slice(2));
  await makeRandomGpt2(out, opts);
  process.stdout.write(`wrote ${out} (${JSON.stringify(opts)})\n`);
}
