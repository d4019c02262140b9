// Runnable-model registry plugin: finds runnable checkpoints (GPT-2 and the llama family) under MODELS_DIR, loads each once, decorates app.models.
import fp from 'fastify-plugin';
import type { FastifyBaseLogger } from 'fastify';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { inspectCheckpoint, RUNNABLE_MODEL_TYPES, summarize } from '../checkpoint/any-checkpoint.js';
import { loadGpt2Runtime } from '../runtime/load.js';
import { GPT2_TOKENIZER, loadTokenizerJson, noTokenizer, type ModelTokenizer } from '../tokenizer/model-tokenizer.js';
import { WorkerRuntime } from '../runtime/worker-runtime.js';
import type { Gpt2Dims, Gpt2Runtime } from '../runtime/types.js';
import { conflict, notFound, serviceUnavailable } from '../errors/problem-error.js';
import { ArchRegistry } from '../arch/registry.js';
import { PROJECT_ROOT } from '../config.js';

export interface RunnableModelInfo {
  /** Folder name under MODELS_DIR; the name requests use. */
  name: string;
  dir: string;
  /** true once the onnxruntime sessions exist. */
  loaded: boolean;
  dims: Gpt2Dims;
  /** The checkpoint's config.json (HF field names), with GPT-2 defaults filled in for absent fields. */
  config: Record<string, unknown>;
  /** Weight dtype in the safetensors file(s) (F32, F16 or BF16). */
  dtype: string;
  /** HF model_type (gpt2, llama, qwen2, qwen3, mistral). */
  modelType: string;
  /** The model's tokenizer: GPT-2's BPE, or the folder's tokenizer.json (llama family). */
  tokenizer: ModelTokenizer;
}

export interface ModelRegistry {
  /** Runnable models found at start, sorted by name (synchronous: health and /models call it). */
  list(): RunnableModelInfo[];
  /** The runnable model `name` or a 404 unknown_model / 409 model_not_runnable ProblemError; never loads. */
  resolve(name: string): RunnableModelInfo;
  /** The loaded runtime; the first call loads it, concurrent first calls share one load. */
  get(name: string): Promise<Gpt2Runtime>;
  /** DEFAULT_MODEL from the configuration. */
  readonly defaultName: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    models: ModelRegistry;
  }
}

/** Architecture-registry lookups the plugin needs for errors (famous models that are shape/parameter math only). */
export interface KnownArchitectures {
  /** Canonical registry name for a name or alias, if the architecture registry knows it. */
  lookup(name: string): string | undefined;
  closestNames(query: string, n: number): string[];
}

export interface ModelRegistryOptions {
  /** Default: the architecture registry in <project>/models/registry, read on the first unknown name. */
  known?: KnownArchitectures;
}

/** Read the architecture registry for error messages only; a registry that fails to load just means no 409 hints. */
function loadKnown(log: FastifyBaseLogger): KnownArchitectures | null {
  try {
    return ArchRegistry.load(path.join(PROJECT_ROOT, 'models', 'registry'));
  } catch (err) {
    log.warn(
      { err: (err as Error).message },
      'architecture registry unavailable; unknown model names get no registry hints',
    );
    return null;
  }
}

const SKIPPED_FOLDERS = new Set(['registry']);

/** Levenshtein distance, for "did you mean" suggestions among runnable names. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

async function isFile(p: string): Promise<boolean> {
  return stat(p).then(
    (s) => s.isFile(),
    () => false,
  );
}

/** Scan MODELS_DIR once: every sub-folder holding a valid runnable checkpoint; everything else is skipped with a log line saying why. */
export async function scanModelsDir(dir: string, log: FastifyBaseLogger): Promise<Omit<RunnableModelInfo, 'loaded'>[]> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    log.warn({ dir }, 'MODELS_DIR does not exist or cannot be read; no runnable models');
    return [];
  }
  const found: Omit<RunnableModelInfo, 'loaded'>[] = [];
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const folder = path.join(dir, e.name);
    if (e.name.startsWith('.') || SKIPPED_FOLDERS.has(e.name)) {
      log.debug({ folder }, 'skipping folder: hidden, or the architecture registry');
      continue;
    }
    const isDir =
      e.isDirectory() ||
      (e.isSymbolicLink() &&
        (await stat(folder).then(
          (s) => s.isDirectory(),
          () => false,
        )));
    if (!isDir) continue;
    const hasWeights =
      (await isFile(path.join(folder, 'model.safetensors'))) ||
      (await isFile(path.join(folder, 'model.safetensors.index.json')));
    if (!(await isFile(path.join(folder, 'config.json'))) || !hasWeights) {
      log.info({ folder }, 'skipping model folder: needs config.json and model.safetensors (or a sharded index)');
      continue;
    }
    let modelType: unknown;
    try {
      modelType = (JSON.parse(await readFile(path.join(folder, 'config.json'), 'utf8')) as { model_type?: unknown })
        .model_type;
    } catch {
      log.warn({ folder }, 'skipping model folder: config.json is not valid JSON');
      continue;
    }
    if (!RUNNABLE_MODEL_TYPES.includes(modelType as string)) {
      log.info(
        { folder, model_type: modelType, runnable: RUNNABLE_MODEL_TYPES },
        'skipping model folder: its model_type is not runnable',
      );
      continue;
    }
    try {
      const s = summarize(await inspectCheckpoint(folder));
      const eos = typeof s.config.eos_token_id === 'number' ? s.config.eos_token_id : null;
      const tokenizer =
        s.family === 'gpt2'
          ? GPT2_TOKENIZER
          : ((await loadTokenizerJson(folder, s.config)) ?? noTokenizer(e.name, eos));
      found.push({
        name: e.name,
        dir: folder,
        dims: s.dims,
        config: s.config,
        dtype: s.dtype,
        modelType: s.modelType,
        tokenizer,
      });
    } catch (err) {
      log.warn({ folder, err: (err as Error).message }, 'skipping model folder: invalid checkpoint');
    }
  }
  return found;
}

export default fp<ModelRegistryOptions>(
  async (app, opts) => {
    const { MODELS_DIR, DEFAULT_MODEL, MODEL_LOADING, ORT_THREADS, MODEL_WORKERS } = app.config;
    const found = await scanModelsDir(MODELS_DIR, app.log);
    const byName = new Map(found.map((m) => [m.name, m]));
    const loading = new Map<string, Promise<Gpt2Runtime>>();
    const loaded = new Map<string, Gpt2Runtime>();
    app.log.info({ dir: MODELS_DIR, models: found.map((m) => m.name) }, 'runnable models');

    let knownArchs: KnownArchitectures | null | undefined = opts.known;
    const known = () => (knownArchs === undefined ? (knownArchs = loadKnown(app.log)) : knownArchs);

    const resolve = (name: string): RunnableModelInfo => {
      const info = byName.get(name);
      if (info) return { ...info, loaded: loaded.has(name) };
      const canonical = known()?.lookup(name);
      // An alias of an installed model (e.g. "openai-community/gpt2" for a folder named gpt2) runs that model.
      const aliased = canonical !== undefined ? byName.get(canonical) : undefined;
      if (aliased) return { ...aliased, loaded: loaded.has(aliased.name) };
      if (canonical) {
        throw conflict(
          'model_not_runnable',
          `"${name}" is a known architecture (${canonical}) but no checkpoint of it is installed here: only its parameter ` +
            `counts and shape flow are available (GET /models/${canonical}/params, /models/${canonical}/shapes).`,
          { model: canonical, runnable_models: [...byName.keys()] },
        );
      }
      const runnable = [...byName.keys()]
        .map((n) => ({ n, d: editDistance(n.toLowerCase(), name.toLowerCase()) }))
        .sort((a, b) => a.d - b.d)
        .slice(0, 3)
        .map((x) => x.n);
      const suggestions = [...new Set([...runnable, ...(known()?.closestNames(name, 3) ?? [])])];
      throw notFound(
        'unknown_model',
        `There is no model named "${name}". Runnable here: ${[...byName.keys()].join(', ') || 'none'}.`,
        {
          suggestions,
          runnable_models: [...byName.keys()],
        },
      );
    };

    const get = (requested: string): Promise<Gpt2Runtime> => {
      let info: RunnableModelInfo;
      try {
        info = resolve(requested);
      } catch (err) {
        return Promise.reject(err); // unknown names reject like load failures instead of throwing synchronously
      }
      const name = info.name; // an alias shares the folder's one load
      const pending = loading.get(name);
      if (pending) return pending;
      const started = Date.now();
      // MODEL_WORKERS >= 1: the sessions live in worker threads (a crashed worker restarts on its next request);
      // 0: on this thread, where every forward pass blocks the event loop.
      const options = { name, threads: ORT_THREADS || undefined, logger: app.log };
      const load =
        MODEL_WORKERS > 0
          ? WorkerRuntime.load(info.dir, { ...options, workers: MODEL_WORKERS })
          : loadGpt2Runtime(info.dir, options);
      const p: Promise<Gpt2Runtime> = load.then(
        (rt: Gpt2Runtime) => {
          loaded.set(name, rt);
          app.log.info({ model: name, ms: Date.now() - started }, 'model loaded');
          return rt;
        },
        (err: unknown) => {
          // Forget the failed attempt so a later request can retry (e.g. after the file is fixed).
          loading.delete(name);
          app.log.error({ model: name, err }, 'model failed to load');
          throw serviceUnavailable(
            'model_load_failed',
            `The model "${name}" could not be loaded; the error was logged.`,
          );
        },
      );
      loading.set(name, p);
      return p;
    };

    const registry: ModelRegistry = {
      list: () => found.map((m) => ({ ...m, loaded: loaded.has(m.name) })),
      resolve,
      get,
      defaultName: DEFAULT_MODEL,
    };
    app.decorate('models', registry);

    // Terminates model workers too: nothing keeps the process alive after app.close().
    app.addHook('onClose', async () => {
      const all = await Promise.allSettled([...loading.values()]);
      for (const r of all) if (r.status === 'fulfilled') await r.value.dispose().catch(() => undefined);
      loading.clear();
      loaded.clear();
    });

    if (MODEL_LOADING === 'eager') {
      // Eager start-up: build every graph now; a model that fails stays listed and fails again on use.
      await Promise.allSettled(found.map((m) => get(m.name)));
    }
  },
  { name: 'model-registry', dependencies: ['config'] },
);
