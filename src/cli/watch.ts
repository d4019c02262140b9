// npm run watch -- "prompt" [--url ws://localhost:8080/stream] [--max-new-tokens N]: follow a generation live.
// Prints each token as it arrives and, per token, one line per layer: residual-stream norm and logit-lens top token.
import { parseArgs } from 'node:util';
import { connect } from 'node:net';
import { pathToFileURL } from 'node:url';
import WebSocket from 'ws';
import { ServerMessageSchema, type StepMessage, type TokenMessage, type DoneMessage } from '../schemas/stream.js';
import { processIo, type CliIo } from './cli-io.js';

const USAGE = `Usage: npm run watch -- "The capital of France is" [options]
       npm run watch -- --share=TOKEN [--url URL]   (follow someone else's generation: the share its owner printed)
  --url URL              stream endpoint (default ws://localhost:\${PORT:-8080}/stream)
  --max-new-tokens N     tokens to generate (default 16)
  --temperature T        0 = greedy (default 0)
  --top-k K, --top-p P   sampling filters (default off)
  --seed S               uint32 seed for sampling
  --model NAME           runnable model (default: the server's)
  --stop STRING          stop string (repeatable)
  --text-only            only the generated text, no per-layer lines
  --share TOKEN          watch the generation with this share token instead of starting one
  --ablate HOOK[:HEADS]  zero a hook for the whole generation, e.g. blocks.2.attn.hook_z:1,3 (heads 1 and 3 of
                         layer 2; no heads: the whole hook); repeatable
  --intervention JSON    any intervention (docs/interventions.md), e.g. '{"hook":"blocks.1.hook_resid_post","op":"scale","factor":2}'; repeatable
  --compare              also run the clean model in lockstep: each token line shows the clean token next to it
  -h, --help             this text
Without --url and with no service listening there, the stream is served from this process.
A server with API_KEYS wants a key: set TENSORTRACE_API_KEY (sent as Authorization: Bearer).
`;

/** ANSI styling only on a terminal, so piped output stays plain text. */
function styler(tty: boolean) {
  const wrap = (code: string) => (s: string) => (tty ? `\x1b[${code}m${s}\x1b[0m` : s);
  return { dim: wrap('2'), bold: wrap('1'), cyan: wrap('36'), yellow: wrap('33'), red: wrap('31'), green: wrap('32') };
}

/** A token's text made visible on one line (newlines, tabs). */
const visible = (t: string) => JSON.stringify(t);

/** 41.3% / 0.052% : two significant digits below 1%. */
const percent = (p: number) => (p >= 0.01 ? `${(p * 100).toFixed(1)}%` : `${(p * 100).toPrecision(2)}%`);

/** A 10-cell bar for a value in [0, max]. */
function bar(v: number, max: number): string {
  const n = max > 0 ? Math.round((v / max) * 10) : 0;
  return '█'.repeat(Math.max(0, Math.min(10, n))).padEnd(10, '·');
}

/** Per-layer lines for one generated token: resid_post norm (from its step) and the lens top token (from the token). */
export function layerLines(step: StepMessage | undefined, token: TokenMessage, tty: boolean): string[] {
  const s = styler(tty);
  const norms = new Map<number, number>();
  for (const h of step?.hooks ?? []) {
    if (h.site === 'hook_resid_post' && h.layer !== null) norms.set(h.layer, h.stats.l2_norm);
    if (h.site === 'hook_resid_pre' && h.layer === 0) norms.set(-1, h.stats.l2_norm); // the embedding, as in the lens
  }
  const lens = token.logit_lens?.positions[0]?.layers ?? [];
  const maxNorm = Math.max(0, ...norms.values());
  return lens.map((row) => {
    const label = row.layer < 0 ? 'emb' : `L${row.layer}`.padEnd(3);
    const norm = norms.get(row.layer);
    const normText = norm === undefined ? ''.padEnd(21) : `${norm.toFixed(2).padStart(9)} ${s.dim(bar(norm, maxNorm))}`;
    const top = row.top[0];
    const lensText = top ? `${visible(top.text).padEnd(14)} ${percent(top.prob).padStart(7)}` : '';
    const hit = top?.id === token.token.id ? s.green(' ✓') : '';
    return `  ${s.dim(label)} ‖resid‖${normText}  lens ${lensText}${hit}`;
  });
}

export interface WatchOptions {
  url: string;
  /** true when --url was not given: with no service listening, one is started in this process. */
  defaultUrl: boolean;
  prompt: string;
  maxNewTokens: number;
  temperature: number;
  topK: number;
  topP: number;
  seed?: number;
  model?: string;
  stop: string[];
  textOnly: boolean;
  /** Watch the generation with this share token instead of starting one. */
  share?: string;
  /** Sent as the generate frame's `interventions` (validated by the server, like any client's). */
  interventions: Record<string, unknown>[];
  /** generate compare: true (the clean generation in lockstep). */
  compare: boolean;
  /** API key for a server with API_KEYS (from TENSORTRACE_API_KEY: an environment variable, not an argument ps shows). */
  apiKey?: string;
}

/** `blocks.2.attn.hook_z:1,3` -> {hook, heads: [1, 3], op: "zero"}; without `:HEADS` the whole hook is zeroed. */
export function parseAblate(spec: string): Record<string, unknown> {
  const [hook, heads, ...rest] = spec.split(':');
  if (!hook || rest.length > 0)
    throw new Error(`--ablate ${spec}: expected HOOK or HOOK:HEADS (blocks.2.attn.hook_z:1,3).`);
  if (heads === undefined) return { hook, op: 'zero' };
  const ids = heads.split(',').map((h) => Number(h));
  if (heads === '' || ids.some((h) => !Number.isInteger(h) || h < 0)) {
    throw new Error(`--ablate ${spec}: heads are comma-separated integers >= 0 (blocks.2.attn.hook_z:1,3).`);
  }
  return { hook, heads: ids, op: 'zero' };
}

/** "blocks.2.attn.hook_z heads 1,3 zero" */
function describeEdit(e: Record<string, unknown>): string {
  const heads = Array.isArray(e.heads) ? ` heads ${e.heads.join(',')}` : '';
  return `${String(e.hook)}${heads} ${String(e.op)}`;
}

function parseIntervention(json: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    throw new Error(`--intervention is not valid JSON: ${json.slice(0, 80)}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('--intervention is one JSON object.');
  return v as Record<string, unknown>;
}

export function parseWatchArgs(argv: string[], env: Record<string, string | undefined>): WatchOptions {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      'max-new-tokens': { type: 'string', default: '16' },
      temperature: { type: 'string', default: '0' },
      'top-k': { type: 'string', default: '0' },
      'top-p': { type: 'string', default: '1' },
      seed: { type: 'string' },
      model: { type: 'string' },
      stop: { type: 'string', multiple: true, default: [] },
      'text-only': { type: 'boolean', default: false },
      share: { type: 'string' },
      ablate: { type: 'string', multiple: true, default: [] },
      intervention: { type: 'string', multiple: true, default: [] },
      compare: { type: 'boolean', default: false },
    },
  });
  const prompt = positionals.join(' ');
  if (!prompt && values.share === undefined) throw new Error('Give a prompt (or --share TOKEN to watch).');
  const num = (name: string, v: string | undefined) => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n)) throw new Error(`--${name} must be a number.`);
    return n;
  };
  return {
    url: values.url ?? `ws://localhost:${env.PORT ?? 8080}/stream`,
    defaultUrl: values.url === undefined,
    prompt,
    maxNewTokens: num('max-new-tokens', values['max-new-tokens']),
    temperature: num('temperature', values.temperature),
    topK: num('top-k', values['top-k']),
    topP: num('top-p', values['top-p']),
    seed: values.seed === undefined ? undefined : num('seed', values.seed),
    model: values.model,
    stop: values.stop ?? [],
    textOnly: values['text-only'] ?? false,
    ...(values.share === undefined ? {} : { share: values.share }),
    interventions: [...(values.ablate ?? []).map(parseAblate), ...(values.intervention ?? []).map(parseIntervention)],
    compare: values.compare ?? false,
    ...(env.TENSORTRACE_API_KEY ? { apiKey: env.TENSORTRACE_API_KEY } : {}),
  };
}

/** Run one generation and print it; resolves with the exit code. */
export function watch(opts: WatchOptions, io: CliIo): Promise<number> {
  const s = styler(io.isTty);
  return new Promise((resolve) => {
    const ws = new WebSocket(opts.url, opts.apiKey ? { headers: { authorization: `Bearer ${opts.apiKey}` } } : {});
    let lastStep: StepMessage | undefined;
    let shown = 0;
    let promptText = opts.prompt;
    let code = 1;
    ws.on('error', (err) => {
      io.err(`${s.red('Cannot reach the stream')}: ${err.message} (${opts.url})\n`);
      resolve(1);
    });
    ws.on('close', () => resolve(code));
    ws.on('message', (data) => {
      const parsed = ServerMessageSchema.safeParse(JSON.parse(String(data)));
      if (!parsed.success) return;
      const m = parsed.data;
      switch (m.type) {
        case 'hello':
          if (opts.share !== undefined) {
            ws.send(JSON.stringify({ type: 'subscribe', id: 'watched', share: opts.share }));
            return;
          }
          ws.send(
            JSON.stringify({
              type: 'generate',
              id: `watch-${process.pid}-${Date.now()}`,
              prompt: opts.prompt,
              max_new_tokens: opts.maxNewTokens,
              temperature: opts.temperature,
              top_k: opts.topK,
              top_p: opts.topP,
              ...(opts.seed === undefined ? {} : { seed: opts.seed }),
              ...(opts.model ? { model: opts.model } : {}),
              stop: opts.stop,
              ...(opts.interventions.length ? { interventions: opts.interventions } : {}),
              ...(opts.compare ? { compare: true } : {}),
              hooks: ['blocks.0.hook_resid_pre', 'blocks.*.hook_resid_post'],
              logit_lens: !opts.textOnly,
              alternatives: 5,
            }),
          );
          return;
        case 'started':
          promptText = m.prompt_tokens.map((t) => t.text).join('');
          io.out(
            `${s.dim(`${m.model} · ${m.dims.n_layer} layers · d_model ${m.dims.d_model} · seed ${m.params.seed}`)}\n` +
              (m.owner && !opts.textOnly
                ? `${s.dim(`share: ${m.share} (npm run watch -- --share=${m.share})`)}\n`
                : '') +
              (opts.interventions.length && !opts.textOnly
                ? `${s.yellow(`intervening: ${opts.interventions.map(describeEdit).join('; ')}`)}\n`
                : '') +
              `${s.bold(promptText)}${opts.textOnly ? '' : '\n'}`,
          );
          return;
        case 'step':
          lastStep = m;
          return;
        case 'token':
          shown++;
          if (opts.textOnly) {
            io.out(s.cyan(m.token.text));
            return;
          }
          io.out(
            `\n${s.cyan(visible(m.token.text))} ${s.dim(
              `#${m.index} pos ${m.position} p=${m.prob.toFixed(4)} ` +
                `rank ${m.sampling.rank}${m.sampling.greedy ? ' greedy' : ` u=${(m.sampling.draw ?? 0).toFixed(4)}`}`,
            )}${cleanText(m, io.isTty)}\n`,
          );
          io.out(`${layerLines(lastStep, m, io.isTty).join('\n')}\n`);
          return;
        case 'done':
          io.out(
            `${opts.textOnly ? '\n' : `\n${s.bold(promptText)}${s.cyan(m.text)}\n`}` +
              (m.baseline && !opts.textOnly ? `${s.dim('clean:')} ${s.bold(promptText)}${m.baseline.text}\n` : '') +
              `${doneLine(m, shown, io.isTty)}\n`,
          );
          code = m.reason === 'error' ? 1 : 0;
          ws.close();
          return;
        case 'error':
          io.err(`${s.red(`Error (${m.code})`)}: ${m.message}\n`);
          if (m.seq === undefined) ws.close();
          return;
        default:
          return;
      }
    });
  });
}

/** With --compare: "  clean " Paris" p=0.4120" (or "= clean" when the tokens agree). */
function cleanText(m: TokenMessage, tty: boolean): string {
  if (m.baseline === undefined) return '';
  const s = styler(tty);
  if (m.baseline === null) return s.dim('  (clean generation stopped)');
  const b = m.baseline;
  return b.same
    ? s.dim(`  = clean (p=${b.prob.toFixed(4)})`)
    : `  ${s.yellow(`clean ${visible(b.token.text)}`)} ${s.dim(`p=${b.prob.toFixed(4)}`)}`;
}

/** `shown`: the token frames printed, counted as the page counts its chips (an end-of-text token included). */
function doneLine(m: DoneMessage, shown: number, tty: boolean): string {
  const s = styler(tty);
  const t = m.timings;
  const eos = m.reason === 'eos' && shown > 0 ? ' (the last is end-of-text)' : '';
  return s.dim(
    `done: ${m.reason}${m.stop ? ` (${visible(m.stop)})` : ''} · ${shown} token${shown === 1 ? '' : 's'}${eos} · ` +
      `${t.tokens_per_s.toFixed(1)} tok/s · ` +
      `prefill ${t.prefill_ms.toFixed(1)} ms · onnxruntime ${t.run_ms.toFixed(1)} ms`,
  );
}

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const options = argv.slice(0, argv.includes('--') ? argv.indexOf('--') : argv.length);
  if (options.includes('--help') || options.includes('-h')) {
    io.out(USAGE);
    return 0;
  }
  let opts: WatchOptions;
  try {
    opts = parseWatchArgs(argv, io.env);
  } catch (err) {
    io.err(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const tty = { ...io, isTty: Boolean(process.stdout.isTTY) && io === processIo };
  if (!opts.defaultUrl || (await reachable(opts.url))) return watch(opts, tty);
  // Nothing listens on the default port: serve the stream from this process so a fresh clone just works.
  const { buildApp } = await import('../app.js');
  const app = await buildApp({ logger: false, config: { SERVE_WEB: false } });
  try {
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    io.err(styler(tty.isTty).dim(`(no service at ${opts.url}; started one in this process on ${address})\n`));
    return await watch({ ...opts, url: `${address.replace(/^http/, 'ws')}/stream` }, tty);
  } finally {
    await app.close();
  }
}

/** Whether something accepts TCP connections at the URL's host and port. */
function reachable(url: string): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: u.hostname, port: Number(u.port || 80) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await main(process.argv.slice(2));
}
