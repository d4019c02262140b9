// npm run model:download -- gpt2|smollm2-135m|qwen2.5-0.5b|qwen3-0.6b|llama-3.2-1b|...|owner/repo: fetch from the hub and install.
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../config.js';
import {
  DEFAULT_HF_ENDPOINT,
  KNOWN_REPOS,
  downloadModel,
  resolveRepo,
  type DownloadProgress,
} from '../checkpoint/download.js';
import { describeCliError, parseOneArgCli, type CliIo, processIo } from './cli-io.js';

const USAGE = `Usage: npm run model:download -- <model> [--name NAME] [--revision REV] [--base-url URL] [--force] [--models-dir DIR]

<model> is one of ${Object.keys(KNOWN_REPOS).join(', ')} or a hub repo id (owner/name) of a runnable model_type
(gpt2, llama, qwen2, qwen3, mistral) with safetensors weights: config.json, model.safetensors or the shards named by
model.safetensors.index.json, and for the llama family tokenizer.json, tokenizer_config.json, generation_config.json.
Files are fetched from URL/<repo>/resolve/<REV>/<file> (URL: --base-url, else HF_ENDPOINT, else ${DEFAULT_HF_ENDPOINT}),
resumed after an interruption, checked against the hub's size and sha256, validated, and installed as MODELS_DIR/NAME.
Gated repos (llama-3.2-1b) need HF_TOKEN: a token of an account that accepted the model's licence.`;

const mb = (n: number) => (n / 1e6).toFixed(1);

/** Progress lines on stderr: redrawn in place on a terminal, every 10% otherwise (logs stay short). */
function progressPrinter(io: CliIo): (p: DownloadProgress) => void {
  let lastTenth = -1;
  let lastDraw = 0;
  return (p) => {
    const pct = p.total ? Math.floor((100 * p.received) / p.total) : undefined;
    const line = `${p.file}: ${mb(p.received)}${p.total ? ` / ${mb(p.total)} MB (${pct}%)` : ' MB'}`;
    if (io.isTty) {
      const now = Date.now();
      if (now - lastDraw > 200 || p.received === p.total) {
        io.err(`\r${line}${p.received === p.total ? '\n' : ''}`);
        lastDraw = now;
      }
    } else if (pct !== undefined && Math.floor(pct / 10) !== lastTenth) {
      lastTenth = Math.floor(pct / 10);
      io.err(`${line}\n`);
    }
  };
}

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const cli = parseOneArgCli(
    argv,
    io,
    USAGE,
    {
      name: { type: 'string' },
      revision: { type: 'string', default: 'main' },
      'base-url': { type: 'string' },
      force: { type: 'boolean', default: false },
      'models-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    'model',
  );
  if (typeof cli === 'number') return cli;
  const { values, arg } = cli;
  try {
    const modelsDir = values['models-dir'] ?? loadConfig(io.env).MODELS_DIR;
    const baseUrl = values['base-url'] ?? io.env.HF_ENDPOINT ?? DEFAULT_HF_ENDPOINT;
    const { repo } = resolveRepo(arg); // a bad name fails before any message about downloading
    io.err(`Downloading ${repo} from ${baseUrl} (revision ${values.revision}) into ${modelsDir}\n`);
    const r = await downloadModel(arg, {
      modelsDir,
      name: values.name,
      revision: values.revision,
      baseUrl,
      token: io.env.HF_TOKEN || undefined,
      force: values.force,
      onProgress: progressPrinter(io),
      onRetry: (i) =>
        io.err(
          `\n${i.file}: connection lost (${i.reason}); resuming from ${mb(i.resumeFrom)} MB (attempt ${i.attempt + 1})\n`,
        ),
    });
    const d = r.checkpoint.dims;
    io.out(
      `Installed "${r.name}" in ${r.dir}: ${r.checkpoint.modelType}, ${d.nLayer} layers, d_model ${d.dModel}, ` +
        `${d.nHead} heads, ${r.checkpoint.dtype}, ${mb(r.bytes)} MB in ${r.files.length} files. ` +
        `Use it with {"model": "${r.name}"} or DEFAULT_MODEL=${r.name}.\n`,
    );
    return 0;
  } catch (err) {
    io.err(`\n${describeCliError(err)}\n`);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
