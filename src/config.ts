// Service configuration: environment variables -> a validated, frozen AppConfig.
import { z } from 'zod';
import { isIP } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MIN_API_KEY_LENGTH } from './security/api-keys.js';

/** Repository root (two levels up from this file in src/ and in dist/src/). */
export const PROJECT_ROOT = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  fileURLToPath(import.meta.url).includes(`${path.sep}dist${path.sep}`) ? '../..' : '..',
);

const intFromEnv = (def: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(def);

const boolFromEnv = (def: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(def ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** A comma-separated list (blank items dropped); unset = empty. */
const listFromEnv = () =>
  z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x.length > 0),
    );

/** Every environment variable the service reads, with its default. The README lists these. */
export const EnvSchema = z.object({
  PORT: intFromEnv(8080, 0, 65535).describe('TCP port to listen on'),
  HOST: z.string().min(1).default('0.0.0.0').describe('Interface to bind'),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe('pino log level'),
  MODELS_DIR: z
    .string()
    .min(1)
    .default(path.join(PROJECT_ROOT, 'models'))
    .describe('Folder scanned for runnable checkpoints (sub-folders with config.json + model.safetensors)'),
  DEFAULT_MODEL: z.string().min(1).default('gpt2-mini').describe('Model used when a request names none'),
  MODEL_LOADING: z
    .enum(['lazy', 'eager'])
    .default('lazy')
    .describe('lazy: build a model graph on first use; eager: build all at start'),
  ORT_THREADS: intFromEnv(0, 0, 256).describe(
    'onnxruntime intra-op threads per session, i.e. per model worker (0 = onnxruntime default: one per core)',
  ),
  MODEL_WORKERS: intFromEnv(1, 0, 64).describe(
    'Worker threads per loaded model, each running its own onnxruntime sessions and holding its own KV caches, ' +
      'so forward passes never block the HTTP/WebSocket event loop; N workers run N passes at once and hold N ' +
      'copies of the weights. 0 = run the model on the main thread (debugging; every forward pass then stalls the server)',
  ),
  MAX_RETURNED_VALUES: intFromEnv(2_000_000, 1, 1_000_000_000).describe(
    'Cap on raw tensor values one /trace response may return with detail=full (over it: 413)',
  ),
  MAX_INTERVENTIONS: intFromEnv(64, 0, 10_000).describe(
    'Interventions one /trace request or stream generation may carry (each distinct set of edited hooks opens one extra session)',
  ),
  SWEEP_MAX_CELLS: intFromEnv(4096, 1, 1_000_000).describe(
    'Cells one /sweep (or stream sweep) may have, layers x heads or positions; over it: 413 sweep_too_large with the size',
  ),
  SWEEP_MAX_VALUES: intFromEnv(20_000, 1, 100_000_000).describe(
    'Numbers one sweep reply may carry (values + normalized grids); over it: 413 sweep_too_large with the size',
  ),
  EXPORT_MAX_BYTES: intFromEnv(1024 * 1024 * 1024, 1, 4_000_000_000).describe(
    'Cap on the float32 tensor bytes of one safetensors/npz export (POST /trace with a file format, saved-trace tensors); over it: 413',
  ),
  DATA_DIR: z
    .string()
    .min(1)
    .default(path.join(PROJECT_ROOT, 'data'))
    .describe('Folder of the saved-trace store: traces.db (SQLite) and traces/ (one safetensors file per saved trace)'),
  TRACES_MAX_COUNT: intFromEnv(1000, 1, 10_000_000).describe(
    'Most saved traces kept; saving one more evicts the oldest first',
  ),
  TRACES_MAX_BYTES: intFromEnv(2 * 1024 * 1024 * 1024, 1, Number.MAX_SAFE_INTEGER).describe(
    'Most bytes the saved traces may take (tensor files + stored JSON); saving one more evicts the oldest first; one trace over it alone: 413',
  ),
  MAX_NEW_TOKENS: intFromEnv(256, 0, 100_000).describe('Upper bound for max_new_tokens in /trace and the stream'),
  TOKENIZE_MAX_TOKENS: intFromEnv(65_536, 1, 10_000_000).describe(
    'Most tokens one /tokenize answer may hold (over it: 400 text_too_long, decided before or while tokenizing)',
  ),
  WS_MAX_CONNECTIONS: intFromEnv(64, 1, 100_000).describe('Concurrent WebSocket connections'),
  WS_MAX_GENERATIONS: intFromEnv(16, 1, 10_000).describe('Concurrent generations across all connections'),
  WS_MAX_MESSAGE_BYTES: intFromEnv(65_536, 256, 64 * 1024 * 1024).describe('Largest accepted client frame'),
  WS_MAX_BUFFERED_BYTES: intFromEnv(4 * 1024 * 1024, 1024, 1024 * 1024 * 1024).describe(
    'Socket send-buffer level above which a generation pauses / coalesces layer detail',
  ),
  WS_HEARTBEAT_MS: intFromEnv(30_000, 100, 3_600_000).describe(
    'Ping interval; a peer silent for two intervals is dropped',
  ),
  WS_REPLAY_BYTES: intFromEnv(8 * 1024 * 1024, 0, 1024 * 1024 * 1024).describe(
    'Bytes of serialised frames kept per generation for late subscribers (step frames are dropped first, oldest first)',
  ),
  WS_REPLAY_GRACE_MS: intFromEnv(30_000, 0, 3_600_000).describe(
    'How long a finished generation stays subscribable (with its share token) before its replay buffer is released',
  ),
  WS_ALLOWED_ORIGINS: listFromEnv().describe(
    'Origins whose pages may open the stream only (the older, stream-only form of CORS_ORIGINS; both lists are allowed)',
  ),
  WS_MAX_CONNECTIONS_PER_CLIENT: intFromEnv(8, 1, 100_000).describe(
    'Concurrent WebSocket connections per client (API key, else remote address)',
  ),
  WS_MAX_GENERATIONS_PER_CLIENT: intFromEnv(4, 1, 10_000).describe(
    'Concurrent generations per client (API key, else remote address), across its connections',
  ),
  SHUTDOWN_GRACE_MS: intFromEnv(10_000, 100, 600_000).describe(
    'On SIGTERM/SIGINT: time to finish in-flight work; stream sockets that cannot close within a quarter of it are terminated',
  ),
  SERVE_WEB: boolFromEnv(true).describe('Serve the web page at /'),
  API_KEYS: listFromEnv()
    .refine((keys) => keys.every((k) => k.length >= MIN_API_KEY_LENGTH && !/\s/.test(k)), {
      message: `each key needs at least ${MIN_API_KEY_LENGTH} characters and no spaces`,
    })
    .describe(
      'Comma-separated API keys; when set, every route but the page, /docs and the health checks needs one ' +
        '(Authorization: Bearer <key> or X-API-Key), the WebSocket upgrade too. Empty = no authentication',
    ),
  CORS_ORIGINS: listFromEnv().describe(
    'Comma-separated origins (scheme://host[:port]) whose pages may call the API (CORS) and open the stream; * = any. Empty = same origin only',
  ),
  TRUST_PROXY: z
    .string()
    .default('false')
    .transform((v, ctx): boolean | number | string[] => {
      const t = v.trim();
      if (t === '' || t === 'false' || t === '0') return false;
      if (t === 'true') return true;
      if (/^\d{1,3}$/.test(t)) return Number(t);
      const items = t.split(',').map((x) => x.trim());
      const bad = items.filter((x) => {
        const [ip, prefix, extra] = x.split('/');
        const v4 = isIP(ip ?? '') === 4;
        const bits = v4 ? 32 : 128;
        return (
          !isIP(ip ?? '') ||
          extra !== undefined ||
          (prefix !== undefined && !(/^\d+$/.test(prefix) && Number(prefix) <= bits))
        );
      });
      if (bad.length) {
        ctx.addIssue({
          code: 'custom',
          message: `"${bad[0]}" is not an IP address or CIDR range; give false, true, a hop count or proxy addresses`,
        });
        return z.NEVER;
      }
      return items;
    })
    .describe(
      'Reverse proxies whose X-Forwarded-For names the client (its address then counts for the per-client limits): ' +
        'false (default: the socket peer is the client), true (any), a hop count, or comma-separated IPs / CIDR ranges',
    ),
  RATE_LIMIT_MAX: intFromEnv(600, 0, 1_000_000_000).describe(
    'Requests per client (API key, else remote address) per RATE_LIMIT_WINDOW_MS on every route but the health checks; over it: 429 with Retry-After. 0 = off',
  ),
  RATE_LIMIT_WINDOW_MS: intFromEnv(60_000, 1000, 86_400_000).describe('The window RATE_LIMIT_MAX counts in'),
  MODEL_QUEUE_MAX: intFromEnv(16, 0, 100_000).describe(
    'REST model requests (/trace, /sweep) allowed to wait per model beyond the MODEL_WORKERS running ones; over it: 503 model_busy with Retry-After',
  ),
  MODEL_REQUESTS_PER_CLIENT: intFromEnv(4, 1, 100_000).describe(
    'REST model requests (/trace, /sweep) one client may have in flight; over it: 429 too_many_client_requests with Retry-After',
  ),
  MAX_EVENT_LOOP_DELAY_MS: intFromEnv(1000, 0, 600_000).describe(
    'Mean event-loop delay (sampled each second) above which requests other than the health checks get 503 server_overloaded. 0 = off',
  ),
  BODY_LIMIT_BYTES: intFromEnv(8 * 1024 * 1024, 1024, 1024 * 1024 * 1024).describe(
    'Largest request body; over it: 413 body_too_large',
  ),
  REQUEST_TIMEOUT_MS: intFromEnv(30_000, 0, 3_600_000).describe(
    'Time a client has to send a whole request (headers and body); a slower one gets 408 request_timeout and is disconnected. 0 = none',
  ),
  KEEP_ALIVE_TIMEOUT_MS: intFromEnv(5000, 1, 3_600_000).describe(
    'How long an idle keep-alive connection stays open after a response',
  ),
});

export type AppConfig = Readonly<z.infer<typeof EnvSchema>>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parse and freeze configuration; throws ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  const picked: Record<string, string | undefined> = {};
  for (const key of Object.keys(EnvSchema.shape)) {
    const v = env[key];
    if (v !== undefined && v !== '') picked[key] = v;
  }
  const parsed = EnvSchema.safeParse(picked);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  return Object.freeze(parsed.data);
}
