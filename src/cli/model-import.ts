// npm run model:import -- <folder> [--name N] [--force] [--models-dir D]: validate and install a HF model folder.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../config.js';
import { importCheckpoint } from '../checkpoint/import.js';
import { describeCliError, parseOneArgCli, type CliIo, processIo } from './cli-io.js';

const USAGE = `Usage: npm run model:import -- <folder> [--name NAME] [--force] [--models-dir DIR]

Checks that <folder> holds a runnable Hugging Face checkpoint (model_type gpt2, llama, qwen2, qwen3 or mistral:
config.json + model.safetensors, or shards + model.safetensors.index.json; every tensor's name, dtype and shape
against the config) and installs it as MODELS_DIR/NAME (default: the folder's name; for a Hugging Face cache
snapshot .../models--Owner--Repo/snapshots/<commit>, the repo's name). tokenizer.json, tokenizer_config.json and
generation_config.json come along when present. Symlinks (the cache's links into ../../blobs) are followed: the
installed files are real copies, each checked against its source's size and sha256.`;

/** Returns the process exit code; expected failures print one sentence, never a stack trace. */
export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const cli = parseOneArgCli(
    argv,
    io,
    USAGE,
    {
      name: { type: 'string' },
      force: { type: 'boolean', default: false },
      'models-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    'folder',
  );
  if (typeof cli === 'number') return cli;
  const { values, arg } = cli;
  try {
    const modelsDir = values['models-dir'] ?? loadConfig(io.env).MODELS_DIR;
    const r = await importCheckpoint(arg, { modelsDir, name: values.name, force: values.force });
    const d = r.checkpoint.dims;
    io.out(
      `Installed "${r.name}" in ${r.dir}${r.replaced ? ' (replaced the previous one)' : ''}: ` +
        `${r.checkpoint.modelType}, ${d.nLayer} layers, d_model ${d.dModel}, ${d.nHead} heads` +
        `${d.nKvHeads !== undefined && d.nKvHeads !== d.nHead ? ` (${d.nKvHeads} key/value)` : ''}, n_ctx ${d.nCtx}, ` +
        `vocab ${d.dVocab}, ${r.checkpoint.dtype}, ${(r.bytes / 1e6).toFixed(1)} MB in ${r.files.length} files.\n` +
        `Use it with {"model": "${r.name}"} or DEFAULT_MODEL=${r.name} (models folder: ${path.resolve(modelsDir)}).\n`,
    );
    return 0;
  } catch (err) {
    io.err(`${describeCliError(err)}\n`);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
