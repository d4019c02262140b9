// Llama-family checkpoint inspection (model_type llama, qwen2, qwen3, mistral): HF config.json + model.safetensors
// or sharded model-0000x-of-0000y.safetensors with model.safetensors.index.json; every tensor's name, dtype and
// shape checked against the config. The config is normalised by the architecture math (src/arch/normalize.ts),
// so head counts, head_dim, biases, q/k norm, tying and sliding windows follow one rule for /shapes and the graph.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { normalizeConfig } from '../arch/normalize.js';
import type { ArchSpec } from '../arch/spec.js';
import { ProblemError } from '../errors/problem-error.js';
import type { ModelDims } from '../arch/model-dims.js';
import { CheckpointError, readSafetensorsHeader, type SafetensorsDtype, type TensorInfo } from './safetensors.js';

/** The model_types the llama graph family runs. */
export const LLAMA_MODEL_TYPES = ['llama', 'qwen2', 'qwen3', 'mistral'] as const;
export type LlamaModelType = (typeof LLAMA_MODEL_TYPES)[number];

export const isLlamaModelType = (t: unknown): t is LlamaModelType =>
  typeof t === 'string' && (LLAMA_MODEL_TYPES as readonly string[]).includes(t);

/** Rotary embedding frequencies: HF rope_scaling (`rope_type`, or `type` in older files). */
export type RopeScaling =
  | { kind: 'default' }
  | { kind: 'linear'; factor: number }
  | { kind: 'llama3'; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositions: number };

/** Everything the llama graph builder needs beyond the dims. */
export interface LlamaGraphSpec {
  modelType: LlamaModelType;
  qkvBias: boolean;
  oBias: boolean;
  mlpBias: boolean;
  /** Qwen3: per-head RMSNorm on queries and keys (weight [d_head]) before RoPE. */
  qkNorm: boolean;
  tied: boolean;
  ropeTheta: number;
  ropeScaling: RopeScaling;
  /** Per layer: the sliding window (query i sees key j when 0 <= i - j < window) or null for full causal attention. */
  windows: (number | null)[];
}

/** A weight: where its bytes are (file relative to the model folder) and its safetensors entry. */
export interface LlamaTensor extends TensorInfo {
  file: string;
}

export type WeightDtype = Extract<SafetensorsDtype, 'F32' | 'F16' | 'BF16'>;
const WEIGHT_DTYPES: readonly SafetensorsDtype[] = ['F32', 'F16', 'BF16'];

export interface LlamaCheckpoint {
  config: Record<string, unknown>;
  dims: ModelDims;
  spec: LlamaGraphSpec;
  /** The dtype of most weights (all F32/F16/BF16; the graph computes in float32). */
  dtype: WeightDtype;
  tensors: Map<string, LlamaTensor>;
  /** Absolute paths of the safetensors files (one, or the shards in index order). */
  files: { dir: string; config: string; weights: string[] };
}

const num = (v: unknown, fallback: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);

/** rope_scaling -> RopeScaling; unsupported kinds (dynamic, yarn, longrope, ...) are refused with the list. */
export function ropeScalingOf(config: Record<string, unknown>, file: string): RopeScaling {
  const rs = config.rope_scaling;
  if (rs === undefined || rs === null) return { kind: 'default' };
  if (typeof rs !== 'object' || Array.isArray(rs)) {
    throw new CheckpointError(`${file}: rope_scaling must be an object or null.`, undefined, file);
  }
  const r = rs as Record<string, unknown>;
  const kind = r.rope_type ?? r.type; // Llama 3.1+ write rope_type; older files type
  const factor = num(r.factor, Number.NaN);
  const needFactor = () => {
    if (!(factor > 0))
      throw new CheckpointError(`${file}: rope_scaling.factor must be a positive number.`, undefined, file);
  };
  if (kind === 'default') return { kind: 'default' };
  if (kind === 'linear') {
    needFactor();
    return { kind: 'linear', factor };
  }
  if (kind === 'llama3') {
    needFactor();
    const low = num(r.low_freq_factor, Number.NaN);
    const high = num(r.high_freq_factor, Number.NaN);
    const orig = num(r.original_max_position_embeddings, Number.NaN);
    if (!(low > 0 && high > low && orig > 0)) {
      throw new CheckpointError(
        `${file}: rope_scaling llama3 needs low_freq_factor > 0, high_freq_factor > low_freq_factor and original_max_position_embeddings > 0.`,
        undefined,
        file,
      );
    }
    return { kind: 'llama3', factor, lowFreqFactor: low, highFreqFactor: high, originalMaxPositions: orig };
  }
  throw new CheckpointError(
    `${file}: rope_scaling type ${JSON.stringify(kind)} is not supported; supported: default, linear, llama3.`,
    undefined,
    file,
  );
}

/** Config -> dims + graph spec, through the architecture math. Throws CheckpointError. */
export function llamaSpecFromConfig(
  config: Record<string, unknown>,
  file: string,
): { dims: ModelDims; spec: LlamaGraphSpec; arch: ArchSpec } {
  let arch: ArchSpec;
  try {
    arch = normalizeConfig(config);
  } catch (err) {
    if (err instanceof ProblemError) throw new CheckpointError(`${file}: ${err.detail}`, undefined, file);
    throw err;
  }
  if (!isLlamaModelType(arch.modelType)) {
    throw new CheckpointError(`${file}: model_type ${arch.modelType} is not a llama-family model.`, undefined, file);
  }
  const a = arch.attention;
  const refuse = (why: string) => new CheckpointError(`${file}: ${why}`, undefined, file);
  if (arch.moe) throw refuse('mixture-of-experts layers are not supported by the llama graph.');
  if (arch.mlp.kind !== 'gated' || arch.mlp.act !== 'silu')
    throw refuse(`hidden_act ${arch.mlp.act} is not supported; the llama graph runs silu.`);
  if (a.ropeFraction !== null && a.ropeFraction !== 1) throw refuse('partial rotary embeddings are not supported.');
  const eps = num(config.rms_norm_eps, 1e-6);
  const theta = num(config.rope_theta, 10000);
  if (!(eps > 0 && eps < 1)) throw refuse('rms_norm_eps must be in (0, 1).');
  if (!(theta > 1)) throw refuse('rope_theta must be > 1.');
  const dims: ModelDims = Object.freeze({
    family: 'llama' as const,
    nLayer: arch.nLayers,
    nHead: a.nHeads,
    nKvHeads: a.nKvHeads,
    dModel: arch.dModel,
    dHead: a.dHead,
    dMlp: arch.mlp.dMlp,
    dVocab: arch.vocabSize,
    nCtx: arch.maxPositions,
    layerNormEps: eps,
  });
  const spec: LlamaGraphSpec = {
    modelType: arch.modelType,
    qkvBias: a.qkvBias,
    oBias: a.oBias,
    mlpBias: arch.mlp.bias,
    qkNorm: a.qkNorm,
    tied: arch.tiedEmbeddings,
    ropeTheta: theta,
    ropeScaling: ropeScalingOf(config, file),
    windows: arch.layers.map((l) => (l.attention.kind === 'sliding' ? l.attention.window : null)),
  };
  return { dims, spec, arch };
}

/** Every tensor a model of this spec must hold, HF name -> shape (nn.Linear weights are [out, in]). */
export function expectedLlamaTensors(d: ModelDims, s: LlamaGraphSpec): Map<string, number[]> {
  const m = new Map<string, number[]>();
  const kv = d.nKvHeads ?? d.nHead;
  const q = d.nHead * d.dHead;
  m.set('model.embed_tokens.weight', [d.dVocab, d.dModel]);
  for (let i = 0; i < d.nLayer; i++) {
    const p = `model.layers.${i}`;
    m.set(`${p}.input_layernorm.weight`, [d.dModel]);
    m.set(`${p}.self_attn.q_proj.weight`, [q, d.dModel]);
    m.set(`${p}.self_attn.k_proj.weight`, [kv * d.dHead, d.dModel]);
    m.set(`${p}.self_attn.v_proj.weight`, [kv * d.dHead, d.dModel]);
    if (s.qkvBias) {
      m.set(`${p}.self_attn.q_proj.bias`, [q]);
      m.set(`${p}.self_attn.k_proj.bias`, [kv * d.dHead]);
      m.set(`${p}.self_attn.v_proj.bias`, [kv * d.dHead]);
    }
    if (s.qkNorm) {
      m.set(`${p}.self_attn.q_norm.weight`, [d.dHead]);
      m.set(`${p}.self_attn.k_norm.weight`, [d.dHead]);
    }
    m.set(`${p}.self_attn.o_proj.weight`, [d.dModel, q]);
    if (s.oBias) m.set(`${p}.self_attn.o_proj.bias`, [d.dModel]);
    m.set(`${p}.post_attention_layernorm.weight`, [d.dModel]);
    m.set(`${p}.mlp.gate_proj.weight`, [d.dMlp, d.dModel]);
    m.set(`${p}.mlp.up_proj.weight`, [d.dMlp, d.dModel]);
    m.set(`${p}.mlp.down_proj.weight`, [d.dModel, d.dMlp]);
    if (s.mlpBias) {
      m.set(`${p}.mlp.gate_proj.bias`, [d.dMlp]);
      m.set(`${p}.mlp.up_proj.bias`, [d.dMlp]);
      m.set(`${p}.mlp.down_proj.bias`, [d.dModel]);
    }
  }
  m.set('model.norm.weight', [d.dModel]);
  if (!s.tied) m.set('lm_head.weight', [d.dVocab, d.dModel]);
  return m;
}

/** Buffers some checkpoints carry that are not weights (old Llama exports store RoPE's inv_freq). */
const IGNORED = /^model\.layers\.\d+\.self_attn\.rotary_emb\.inv_freq$/;

const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

async function isFile(p: string): Promise<boolean> {
  return stat(p).then(
    (s) => s.isFile(),
    () => false,
  );
}

async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new CheckpointError(`${file} does not exist or cannot be read.`, undefined, file);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new CheckpointError(`${file} is not valid JSON.`, undefined, file);
  }
}

/**
 * The safetensors files of a folder: model.safetensors, or the shards named by model.safetensors.index.json
 * (each must sit in the folder; its weight_map must agree with the shard headers).
 */
export async function weightFiles(dir: string): Promise<{ files: string[]; weightMap: Map<string, string> | null }> {
  const single = path.join(dir, 'model.safetensors');
  if (await isFile(single)) return { files: [single], weightMap: null };
  const indexPath = path.join(dir, 'model.safetensors.index.json');
  if (!(await isFile(indexPath))) {
    throw new CheckpointError(
      `${dir} has neither model.safetensors nor model.safetensors.index.json.`,
      undefined,
      single,
    );
  }
  const index = (await readJson(indexPath)) as { weight_map?: unknown };
  const wm = index?.weight_map;
  if (typeof wm !== 'object' || wm === null || Array.isArray(wm)) {
    throw new CheckpointError(`${indexPath}: weight_map must map tensor names to shard files.`, undefined, indexPath);
  }
  const weightMap = new Map<string, string>();
  for (const [name, file] of Object.entries(wm as Record<string, unknown>)) {
    if (typeof file !== 'string' || file !== path.basename(file) || !file.endsWith('.safetensors')) {
      throw new CheckpointError(
        `${indexPath}: tensor ${name} maps to ${JSON.stringify(file)}; shards must be .safetensors files in the same folder.`,
        name,
        indexPath,
      );
    }
    weightMap.set(name, file);
  }
  const files = [...new Set(weightMap.values())].sort().map((f) => path.join(dir, f));
  if (files.length === 0) throw new CheckpointError(`${indexPath}: weight_map is empty.`, undefined, indexPath);
  return { files, weightMap };
}

/** Read config.json + the weights in `dir` and validate them against each other; throws CheckpointError. */
export async function inspectLlamaCheckpoint(dir: string): Promise<LlamaCheckpoint> {
  const configPath = path.join(dir, 'config.json');
  const raw = await readJson(configPath);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new CheckpointError(`${configPath} must hold a JSON object.`, undefined, configPath);
  }
  const config = raw as Record<string, unknown>;
  const { dims, spec } = llamaSpecFromConfig(config, configPath);
  const expected = expectedLlamaTensors(dims, spec);
  const { files, weightMap } = await weightFiles(dir);

  const tensors = new Map<string, LlamaTensor>();
  const dtypes = new Map<WeightDtype, number>();
  for (const file of files) {
    const header = await readSafetensorsHeader(file);
    for (const t of header.tensors) {
      const fail = (why: string) => new CheckpointError(`Tensor ${t.name}: ${why}.`, t.name, file);
      if (IGNORED.test(t.name)) continue;
      if (weightMap && weightMap.get(t.name) !== path.basename(file)) {
        throw fail(`stored in ${path.basename(file)} but the index maps it to ${weightMap.get(t.name) ?? 'nothing'}`);
      }
      if (spec.tied && t.name === 'lm_head.weight') {
        if (!sameShape(t.shape, [dims.dVocab, dims.dModel]))
          throw fail(
            `expected shape [${dims.dVocab}, ${dims.dModel}] (tied to embed_tokens), got [${t.shape.join(', ')}]`,
          );
        continue; // tied: the graph reads embed_tokens
      }
      const shape = expected.get(t.name);
      if (!shape) throw fail(`not a weight of this ${spec.modelType} config (unexpected tensor)`);
      if (tensors.has(t.name)) throw fail('appears in two shards');
      if (!WEIGHT_DTYPES.includes(t.dtype)) throw fail(`dtype ${t.dtype} is not supported; expected F32, F16 or BF16`);
      if (!sameShape(t.shape, shape))
        throw fail(`expected shape [${shape.join(', ')}] for this config, got [${t.shape.join(', ')}]`);
      dtypes.set(t.dtype as WeightDtype, (dtypes.get(t.dtype as WeightDtype) ?? 0) + 1);
      tensors.set(t.name, { ...t, file: path.basename(file) });
    }
  }
  for (const name of expected.keys()) {
    if (!tensors.has(name)) throw new CheckpointError(`Tensor ${name} is missing from the checkpoint in ${dir}.`, name);
  }
  const dtype = [...dtypes.entries()].sort((a, b) => b[1] - a[1])[0][0];
  return { config, dims, spec, dtype, tensors, files: { dir, config: configPath, weights: files } };
}
