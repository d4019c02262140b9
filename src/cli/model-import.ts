// npm run model:import -- <folder> [--name N] [--force] [--models-dir D]: validate and install a HF GPT-2 folder.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../config.js';
import { importCheckpoint } from '../checkpoint/import.js';
import { describeCliError, type CliIo, processIo } from './cli-io.js';

const USAGE = `Usage: npm run model:import -- <folder> [--name NAME] [--force] [--models-dir DIR]

Checks that <folder> holds a Hugging Face GPT-2 checkpoint (config.json + model.safetensors: every tensor's
name, dtype and shape against the config) and installs it as MODELS_DIR/NAME (default: the folder's name).`;

/** Returns the process exit code; expected failures print one sentence, never a stack trace. */
export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        name: { type: 'string' },
        force: { type: 'boolean', default: false },
        'models-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    io.err(`${(err as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length !== 1) {
    io.err(`Expected exactly one folder.\n\n${USAGE}\n`);
    return 2;
  }
  try {
    const modelsDir = values['models-dir'] ?? loadConfig(io.env).MODELS_DIR;
    const r = await importCheckpoint(positionals[0] as string, { modelsDir, name: values.name, force: values.force });
    const d = r.checkpoint.dims;
    io.out(
      `Installed "${r.name}" in ${r.dir}${r.replaced ? ' (replaced the previous one)' : ''}: ` +
        `${d.nLayer} layers, d_model ${d.dModel}, ${d.nHead} heads, n_ctx ${d.nCtx}, vocab ${d.dVocab}, ` +
        `${r.checkpoint.dtype}, ${(r.bytes / 1e6).toFixed(1)} MB.\n` +
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
