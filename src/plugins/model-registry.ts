// Runnable-model registry plugin: finds runnable checkpoints (GPT-2 and the llama family) under MODELS_DIR (at start,
// and again for a folder a request names that was not there), loads each once, decorates app.models.
import fp from 'fastify-plugin';
import type { FastifyBaseLogger } from 'fastify';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { inspectCheckpoint, RUNNABLE_MODEL_TYPES, summarize } from '../checkpoint/any-checkpoint.js';
import { loadModelRuntime } from '../runtime/load.js';
import { GPT2_TOKENIZER, loadTokenizerJson, noTokenizer, type ModelTokenizer } from '../tokenizer/model-tokenizer.js';
import { WorkerRuntime } from '../runtime/worker-runtime.js';
import type { ModelDims } from '../arch/model-dims.js';
import type { ModelRuntime } from '../runtime/types.js';
import { conflict, notFound, serviceUnavailable, unprocessable } from '../errors/problem-error.js';
import { KNOWN_REPOS } from '../checkpoint/download.js';
import { ArchRegistry } from '../arch/registry.js';
import { editDistance } from '../errors/edit-distance.js';
import { PROJECT_ROOT } from '../config.js';

export interface RunnableModelInfo {
  /** Folder name under MODELS_DIR; the name requests use. */
  name: string;
  dir: string;
  /** true once the onnxruntime sessions exist. */
  loaded: boolean;
  dims: ModelDims;
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
  /** Runnable models found so far, sorted by name (synchronous: health and /models call it). */
  list(): RunnableModelInfo[];
  /**
   * The runnable model `name` or a 404 unknown_model / 409 model_not_runnable / 422 invalid_checkpoint
   * ProblemError; never loads. Sees only what the last scan found: call refresh(name) first on a request path.
   */
  resolve(name: string): RunnableModelInfo;
  /**
   * If `name` (or the folder its alias names) is not installed, re-read MODELS_DIR/<name>, so a model imported
   * while the service runs is found on first use. Installed names resolve at once; concurrent calls share one read.
   */
  refresh(name: string): Promise<void>;
  /** The loaded runtime; the first call loads it, concurrent first calls share one load. */
  get(name: string): Promise<ModelRuntime>;
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

async function isFile(p: string): Promise<boolean> {
  return stat(p).then(
    (s) => s.isFile(),
    () => false,
  );
}

async function isDirectory(p: string): Promise<boolean> {
  return stat(p).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** What one sub-folder of MODELS_DIR is: a runnable model, a checkpoint that fails validation (and why), or not a model folder. */
export type FolderScan =
  | { kind: 'model'; info: Omit<RunnableModelInfo, 'loaded'> }
  | { kind: 'invalid'; reason: string }
  | { kind: 'skip' };

/** A request's model name may name a folder only if it is one plain segment (no path, not hidden, not reserved). */
export function isFolderName(name: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(name) && !SKIPPED_FOLDERS.has(name);
}

/** Validate MODELS_DIR/<name>; reasons name the folder by its model name, never by the server's absolute path. */
export async function scanModelFolder(dir: string, name: string): Promise<FolderScan> {
  const folder = path.join(dir, name);
  if (!isFolderName(name) || !(await isDirectory(folder))) return { kind: 'skip' };
  const relative = (message: string) => message.replaceAll(`${folder}${path.sep}`, `${name}/`).replaceAll(folder, name);
  const hasConfig = await isFile(path.join(folder, 'config.json'));
  const hasWeights =
    (await isFile(path.join(folder, 'model.safetensors'))) ||
    (await isFile(path.join(folder, 'model.safetensors.index.json')));
  if (!hasConfig && !hasWeights) return { kind: 'skip' };
  if (!hasConfig || !hasWeights) {
    return {
      kind: 'invalid',
      reason: `${name}/ needs config.json and model.safetensors (or a sharded model.safetensors.index.json); it has no ${hasConfig ? 'weights' : 'config.json'}.`,
    };
  }
  try {
    const s = summarize(await inspectCheckpoint(folder));
    const eos = typeof s.config.eos_token_id === 'number' ? s.config.eos_token_id : null;
    const tokenizer =
      s.family === 'gpt2' ? GPT2_TOKENIZER : ((await loadTokenizerJson(folder, s.config)) ?? noTokenizer(name, eos));
    return {
      kind: 'model',
      info: { name, dir: folder, dims: s.dims, config: s.config, dtype: s.dtype, modelType: s.modelType, tokenizer },
    };
  } catch (err) {
    return { kind: 'invalid', reason: relative((err as Error).message) };
  }
}

export interface ModelsDirScan {
  found: Omit<RunnableModelInfo, 'loaded'>[];
  /** Folders that look like checkpoints but fail validation: name -> reason. */
  invalid: Map<string, string>;
}

/** Scan MODELS_DIR: every sub-folder holding a valid runnable checkpoint; everything else is skipped with a log line saying why. */
export async function scanModelsDir(dir: string, log: FastifyBaseLogger): Promise<ModelsDirScan> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    log.warn({ dir }, 'MODELS_DIR does not exist or cannot be read; no runnable models');
    return { found: [], invalid: new Map() };
  }
  const found: Omit<RunnableModelInfo, 'loaded'>[] = [];
  const invalid = new Map<string, string>();
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (!e.isDirectory() && !e.isSymbolicLink()) continue;
    const r = await scanModelFolder(dir, e.name);
    if (r.kind === 'model') found.push(r.info);
    else if (r.kind === 'invalid') {
      invalid.set(e.name, r.reason);
      log.warn({ folder: path.join(dir, e.name), reason: r.reason }, 'skipping model folder: invalid checkpoint');
    } else log.debug({ folder: path.join(dir, e.name) }, 'skipping folder: not a model folder');
  }
  return { found, invalid };
}

/** The command (or step) that installs `canonical`, for 409 model_not_runnable and the start-up warning. */
export function installHint(canonical: string): string {
  if (KNOWN_REPOS[canonical]) return `install it with \`npm run model:download -- ${canonical}\``;
  return (
    `to run it, put its Hugging Face folder (config.json + safetensors, model_type ${RUNNABLE_MODEL_TYPES.join('/')}) ` +
    `in MODELS_DIR/${canonical}, or try \`npm run model:download -- gpt2\``
  );
}

export default fp<ModelRegistryOptions>(
  async (app, opts) => {
    const { MODELS_DIR, DEFAULT_MODEL, MODEL_LOADING, ORT_THREADS, MODEL_WORKERS } = app.config;
    const scan = await scanModelsDir(MODELS_DIR, app.log);
    // Installed models and invalid folders; refresh() updates both when a request names a folder added later.
    const byName = new Map(scan.found.map((m) => [m.name, m]));
    const invalid = scan.invalid;
    const loading = new Map<string, Promise<ModelRuntime>>();
    const loaded = new Map<string, ModelRuntime>();
    const rescans = new Map<string, Promise<void>>();
    const names = () => [...byName.keys()].sort((a, b) => a.localeCompare(b));
    app.log.info({ dir: MODELS_DIR, models: names() }, 'runnable models');

    let knownArchs: KnownArchitectures | null | undefined = opts.known;
    const known = () => (knownArchs === undefined ? (knownArchs = loadKnown(app.log)) : knownArchs);

    if (!byName.has(DEFAULT_MODEL)) {
      const why = invalid.get(DEFAULT_MODEL);
      app.log.warn(
        { default_model: DEFAULT_MODEL, dir: MODELS_DIR, runnable_models: names() },
        why
          ? `DEFAULT_MODEL "${DEFAULT_MODEL}" is not a valid checkpoint: ${why} Requests that name no model will fail.`
          : `DEFAULT_MODEL "${DEFAULT_MODEL}" is not installed in MODELS_DIR; ${installHint(known()?.lookup(DEFAULT_MODEL) ?? DEFAULT_MODEL)}, or set DEFAULT_MODEL to one of: ${names().join(', ') || 'none'}. Requests that name no model will fail.`,
      );
    }

    const resolve = (name: string): RunnableModelInfo => {
      const info = byName.get(name);
      if (info) return { ...info, loaded: loaded.has(name) };
      const why = invalid.get(name);
      if (why !== undefined) {
        throw unprocessable('invalid_checkpoint', `The model folder "${name}" is not a valid checkpoint: ${why}`, {
          model: name,
          reason: why,
        });
      }
      const canonical = known()?.lookup(name);
      // An alias of an installed model (e.g. "openai-community/gpt2" for a folder named gpt2) runs that model.
      const aliased = canonical !== undefined ? byName.get(canonical) : undefined;
      if (aliased) return { ...aliased, loaded: loaded.has(aliased.name) };
      if (canonical) {
        throw conflict(
          'model_not_runnable',
          `"${name}" is a known architecture (${canonical}) but no checkpoint of it is installed here: only its parameter ` +
            `counts and shape flow are available (GET /models/${canonical}/params, /models/${canonical}/shapes); ` +
            `${installHint(canonical)}.`,
          { model: canonical, runnable_models: names(), fix: installHint(canonical) },
        );
      }
      const runnable = names()
        .map((n) => ({ n, d: editDistance(n.toLowerCase(), name.toLowerCase()) }))
        .sort((a, b) => a.d - b.d)
        .slice(0, 3)
        .map((x) => x.n);
      const suggestions = [...new Set([...runnable, ...(known()?.closestNames(name, 3) ?? [])])];
      throw notFound(
        'unknown_model',
        `There is no model named "${name}". Runnable here: ${names().join(', ') || 'none'}.`,
        {
          suggestions,
          runnable_models: names(),
        },
      );
    };

    /** Re-read MODELS_DIR/<folder>: a checkpoint installed (or fixed) after start is found on its first use. */
    const rescanFolder = (folder: string): Promise<void> => {
      const pending = rescans.get(folder);
      if (pending) return pending;
      const p = scanModelFolder(MODELS_DIR, folder)
        .then((r) => {
          if (r.kind === 'model') {
            invalid.delete(folder);
            byName.set(folder, r.info);
            app.log.info({ model: folder }, 'model found on use (installed after start)');
          } else if (r.kind === 'invalid') {
            invalid.set(folder, r.reason);
            app.log.warn({ model: folder, reason: r.reason }, 'model folder is not a valid checkpoint');
          } else invalid.delete(folder);
        })
        .finally(() => rescans.delete(folder));
      rescans.set(folder, p);
      return p;
    };

    const refresh = async (name: string): Promise<void> => {
      if (byName.has(name)) return;
      const canonical = known()?.lookup(name);
      if (canonical !== undefined && byName.has(canonical)) return;
      // Only names that are a folder of MODELS_DIR cost a look at the disk; anything else stays a plain 404/409.
      const folders = [...new Set([name, canonical].filter((n): n is string => n !== undefined && isFolderName(n)))];
      await Promise.all(folders.map(rescanFolder));
    };

    const get = (requested: string): Promise<ModelRuntime> => {
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
          : loadModelRuntime(info.dir, options);
      const p: Promise<ModelRuntime> = load.then(
        (rt: ModelRuntime) => {
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
      list: () =>
        names().map((n) => ({ ...(byName.get(n) as Omit<RunnableModelInfo, 'loaded'>), loaded: loaded.has(n) })),
      resolve,
      refresh,
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
      await Promise.allSettled(names().map((n) => get(n)));
    }
  },
  { name: 'model-registry', dependencies: ['config'] },
);
