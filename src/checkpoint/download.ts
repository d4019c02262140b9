// Fetch a runnable checkpoint from the Hugging Face hub, resumable and verified: config.json, model.safetensors or the
// shards named by model.safetensors.index.json, and the llama family's tokenizer files; gated repos read HF_TOKEN.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, truncate } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  ProblemError,
  badRequest,
  conflict,
  notFound,
  serviceUnavailable,
  unprocessable,
} from '../errors/problem-error.js';
import { RUNNABLE_MODEL_TYPES, readModelType } from './any-checkpoint.js';
import { checkModelName, importCheckpoint, OPTIONAL_FILES, type ImportResult } from './import.js';
import { weightFiles } from './llama-checkpoint.js';
import { CheckpointError } from './safetensors.js';

/**
 * Short names for the checkpoints the runtime is known to run; any other `owner/name` hub repo id is accepted as is.
 * meta-llama/Llama-3.2-1B is gated: HF_TOKEN must belong to an account that accepted its licence.
 */
export const KNOWN_REPOS: Readonly<Record<string, string>> = {
  distilgpt2: 'distilbert/distilgpt2',
  gpt2: 'openai-community/gpt2',
  'gpt2-medium': 'openai-community/gpt2-medium',
  'gpt2-large': 'openai-community/gpt2-large',
  'gpt2-xl': 'openai-community/gpt2-xl',
  'smollm2-135m': 'HuggingFaceTB/SmolLM2-135M',
  'qwen2.5-0.5b': 'Qwen/Qwen2.5-0.5B',
  'qwen3-0.6b': 'Qwen/Qwen3-0.6B',
  'llama-3.2-1b': 'meta-llama/Llama-3.2-1B',
};

export const DEFAULT_HF_ENDPOINT = 'https://huggingface.co';
const REPO_ID = /^[A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*$/;

export interface DownloadProgress {
  file: string;
  received: number;
  /** Expected size in bytes, when the server said. */
  total: number | undefined;
}

export interface DownloadOptions {
  modelsDir: string;
  /** Installed model name; defaults to the short name (gpt2) or the repo's last segment. */
  name?: string;
  revision?: string;
  /** Hub base URL (HF_ENDPOINT); tests point it at a loopback server. */
  baseUrl?: string;
  /** Bearer token for gated/private repos (HF_TOKEN). */
  token?: string;
  force?: boolean;
  /** Extra attempts after a dropped connection; each resumes from the bytes already on disk. */
  retries?: number;
  onProgress?: (p: DownloadProgress) => void;
  /** Called when a transfer restarts or resumes (for a CLI message). */
  onRetry?: (info: { file: string; attempt: number; resumeFrom: number; reason: string }) => void;
}

/** What the hub says about one file before we fetch it. */
export interface RemoteFile {
  url: string;
  size: number | undefined;
  /** sha256 (hex) of the content for LFS files (X-Linked-ETag); undefined for small git files such as config.json. */
  sha256: string | undefined;
}

export function resolveRepo(model: string): { repo: string; name: string } {
  const repo = KNOWN_REPOS[model] ?? model;
  if (!REPO_ID.test(repo)) {
    throw badRequest(
      'unknown_model',
      `"${model}" is neither a known model (${Object.keys(KNOWN_REPOS).join(', ')}) nor a hub repo id like owner/name.`,
    );
  }
  return { repo, name: KNOWN_REPOS[model] ? model : (repo.split('/')[1] as string) };
}

export function fileUrl(baseUrl: string, repo: string, revision: string, file: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/${repo}/resolve/${encodeURIComponent(revision)}/${file}`;
}

function headersFor(token: string | undefined, extra: Record<string, string> = {}): Record<string, string> {
  return token ? { ...extra, authorization: `Bearer ${token}` } : extra;
}

async function request(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (err) {
    // fetch wraps the network failure (ECONNREFUSED, DNS...) in `cause`.
    const cause = (err as Error).cause;
    const why = cause instanceof Error ? cause.message : (err as Error).message;
    throw serviceUnavailable('download_failed', `Could not reach ${new URL(url).origin}: ${why}.`);
  }
}

/**
 * The hub's refusals, told apart: 401 (no valid token for a gated or private repo), 403 (the token's account has no
 * access: the licence of a gated repo was not accepted), 404 (no such repo, or no such file: X-Error-Code
 * EntryNotFound). The hub's own X-Error-Message is quoted when it sends one.
 */
function failForStatus(res: Response, url: string, repo: string, token: string | undefined): ProblemError {
  const hubCode = res.headers.get('x-error-code');
  const hubMessage = res.headers.get('x-error-message');
  const said = hubMessage ? ` The hub says: "${hubMessage.slice(0, 300)}"` : '';
  const page = `${new URL(url).origin}/${repo}`;
  if (res.status === 404 || (res.status === 401 && hubCode === 'RepoNotFound')) {
    if (hubCode === 'EntryNotFound') {
      return notFound('file_not_found', `${url} answered ${res.status}: "${repo}" has no such file.${said}`);
    }
    return notFound(
      'repo_not_found',
      `${url} answered ${res.status}: the repository "${repo}" does not exist${token ? '' : ', or it is private and needs a token (HF_TOKEN)'}.${said}`,
    );
  }
  if (res.status === 401) {
    return new ProblemError(
      401,
      'auth_required',
      'Unauthorized',
      token
        ? `${url} answered 401 although HF_TOKEN is set: the hub did not accept the token (mistyped, expired or revoked?).${said}`
        : `${url} answered 401: "${repo}" is gated or private and no token was sent. Set HF_TOKEN to a Hugging Face access token of an account with access (for a gated model, accept its licence on ${page}) and run the command again.${said}`,
    );
  }
  if (res.status === 403) {
    return new ProblemError(
      403,
      'access_denied',
      'Forbidden',
      token
        ? `${url} answered 403: the account HF_TOKEN belongs to has no access to "${repo}". Accept its licence (or request access) on ${page} with that account, and give a fine-grained token read access to gated repositories; then run the command again.${said}`
        : `${url} answered 403: "${repo}" refuses downloads without a token. Set HF_TOKEN to a Hugging Face access token of an account with access (accept the licence on ${page}) and run the command again.${said}`,
    );
  }
  return serviceUnavailable('download_failed', `${url} answered HTTP ${res.status} ${res.statusText}.`);
}

/** Refusals that another attempt cannot change (auth, missing files); everything else is retried and resumable. */
const isFinal = (err: unknown) => err instanceof ProblemError && err.code !== 'download_failed';
const isAbsent = (err: unknown) =>
  err instanceof ProblemError && (err.code === 'file_not_found' || err.code === 'repo_not_found');

/**
 * HEAD without following redirects, like huggingface_hub: for LFS files the hub's 302 carries
 * X-Linked-Size and X-Linked-ETag (the sha256 of the content) before pointing at the CDN.
 * Relative redirects (renamed repos, e.g. gpt2 -> openai-community/gpt2) are followed.
 */
export async function describeRemoteFile(url: string, repo: string, token?: string): Promise<RemoteFile> {
  let current = url;
  for (let hop = 0; hop < 5; hop++) {
    const res = await request(current, { method: 'HEAD', redirect: 'manual', headers: headersFor(token) });
    const linkedSize = res.headers.get('x-linked-size');
    const linkedEtag = res.headers.get('x-linked-etag');
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location && !linkedSize && location.startsWith('/')) {
      current = new URL(location, current).toString();
      continue;
    }
    if (res.status >= 400) throw failForStatus(res, current, repo, token);
    const sizeText = linkedSize ?? res.headers.get('content-length');
    const etag = linkedEtag?.replace(/^W\//, '').replace(/"/g, '').toLowerCase();
    return {
      url: current,
      size: sizeText !== null && /^\d+$/.test(sizeText) ? Number(sizeText) : undefined,
      sha256: etag && /^[0-9a-f]{64}$/.test(etag) ? etag : undefined,
    };
  }
  throw serviceUnavailable('download_failed', `${url} redirected too many times.`);
}

async function sizeOf(p: string): Promise<number> {
  return stat(p).then(
    (s) => s.size,
    () => 0,
  );
}

export async function sha256File(p: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(p), hash);
  return hash.digest('hex');
}

/** One GET into `part`, continuing after the bytes already there (Range) when there are any. */
async function fetchInto(
  remote: RemoteFile,
  part: string,
  file: string,
  repo: string,
  o: DownloadOptions,
): Promise<void> {
  const have = await sizeOf(part);
  if (remote.size !== undefined && have === remote.size) return;
  if (remote.size !== undefined && have > remote.size) await truncate(part, 0);
  const from = await sizeOf(part);
  const res = await request(remote.url, { headers: headersFor(o.token, from > 0 ? { range: `bytes=${from}-` } : {}) });
  if (res.status === 416) return; // nothing left to send: the size check decides
  if (res.status >= 400) throw failForStatus(res, remote.url, repo, o.token);
  // 200 to a Range request: the server sent the whole file, so start over rather than append.
  const append = res.status === 206 && from > 0;
  if (!append && from > 0) await truncate(part, 0);
  let received = append ? from : 0;
  const total =
    remote.size ??
    (res.headers.get('content-length') ? Number(res.headers.get('content-length')) + received : undefined);
  if (!res.body) throw serviceUnavailable('download_failed', `${remote.url} sent no body.`);
  const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
  body.on('data', (chunk: Buffer) => {
    received += chunk.length;
    o.onProgress?.({ file, received, total });
  });
  await pipeline(body, createWriteStream(part, { flags: append ? 'a' : 'w' }));
}

/**
 * Download one file to `<work>/<file>` with resume, size and sha256 checks. A file a previous run already finished
 * is checked again (size, sha256) instead of fetched. `optional`: a file the hub does not have returns false.
 */
async function downloadFile(
  work: string,
  file: string,
  repo: string,
  revision: string,
  o: DownloadOptions,
  optional = false,
): Promise<boolean> {
  let remote: RemoteFile;
  try {
    remote = await describeRemoteFile(fileUrl(o.baseUrl ?? DEFAULT_HF_ENDPOINT, repo, revision, file), repo, o.token);
  } catch (err) {
    if (optional && isAbsent(err)) return false;
    throw err;
  }
  const part = path.join(work, `${file}.part`);
  const done = path.join(work, file);
  if ((await sizeOf(done)) > 0 && (await sizeOf(part)) === 0) await rename(done, part);
  const retries = o.retries ?? 3;
  for (let attempt = 0; ; attempt++) {
    try {
      await fetchInto(remote, part, file, repo, o);
      break;
    } catch (err) {
      if (isFinal(err)) throw err;
      if (attempt >= retries) {
        throw serviceUnavailable(
          'download_failed',
          `Downloading ${file} failed after ${attempt + 1} attempts (${(err as Error).message}); run the command again to resume.`,
        );
      }
      o.onRetry?.({ file, attempt: attempt + 1, resumeFrom: await sizeOf(part), reason: (err as Error).message });
    }
  }
  const got = await sizeOf(part);
  if (remote.size !== undefined && got !== remote.size) {
    await rm(part, { force: true });
    throw unprocessable(
      'size_mismatch',
      `${file}: received ${got} bytes but the hub announced ${remote.size}; the partial file was deleted.`,
    );
  }
  if (remote.sha256) {
    const actual = await sha256File(part);
    if (actual !== remote.sha256) {
      await rm(part, { force: true });
      throw unprocessable(
        'checksum_mismatch',
        `${file}: sha256 ${actual} does not match the hub's ${remote.sha256}; the file was deleted and nothing was installed.`,
      );
    }
  }
  await rename(part, done);
  return true;
}

/** model.safetensors, or else model.safetensors.index.json and every shard it names (checked like the inspector). */
async function downloadWeights(work: string, repo: string, revision: string, o: DownloadOptions): Promise<void> {
  if (await downloadFile(work, 'model.safetensors', repo, revision, o, true)) return;
  if (!(await downloadFile(work, 'model.safetensors.index.json', repo, revision, o, true))) {
    throw notFound(
      'weights_not_found',
      `"${repo}" (revision ${revision}) has neither model.safetensors nor model.safetensors.index.json: only safetensors checkpoints can be installed (pytorch_model.bin is not read).`,
    );
  }
  const { files } = await weightFiles(work);
  for (const shard of files) await downloadFile(work, path.basename(shard), repo, revision, o);
}

/** A config.json whose model_type cannot run is refused before any weight is fetched. */
async function checkRunnable(work: string, repo: string): Promise<'gpt2' | 'llama'> {
  const type = await readModelType(work);
  if (type === undefined || type === 'gpt2') return 'gpt2';
  if (typeof type === 'string' && RUNNABLE_MODEL_TYPES.includes(type)) return 'llama';
  throw new CheckpointError(
    `${repo}: config.json has model_type ${JSON.stringify(type).slice(0, 80)}, which cannot run here (runnable: ${RUNNABLE_MODEL_TYPES.join(', ')}); no weights were downloaded.`,
  );
}

/**
 * Download a hub repo's config.json, weights (one file or shards + index) and, for the llama family, its tokenizer
 * files into `<modelsDir>/.download-<name>/` (kept between runs so an interrupted download resumes), verify them,
 * then install with importCheckpoint.
 */
export async function downloadModel(model: string, o: DownloadOptions): Promise<ImportResult> {
  const { repo, name: defaultName } = resolveRepo(model);
  const name = checkModelName(o.name ?? defaultName);
  const revision = o.revision ?? 'main';
  const modelsDir = path.resolve(o.modelsDir);
  if (!o.force && (await sizeOf(path.join(modelsDir, name, 'config.json'))) > 0) {
    // Checked before the download too, so nobody waits for 6 GB to learn the name is taken.
    throw conflict(
      'model_exists',
      `A model named "${name}" already exists in ${modelsDir}; pass --force to replace it.`,
      { name },
    );
  }
  const work = path.join(modelsDir, `.download-${name}`);
  await mkdir(work, { recursive: true });
  try {
    await downloadFile(work, 'config.json', repo, revision, o);
    const family = await checkRunnable(work, repo);
    await downloadWeights(work, repo, revision, o);
    // GPT-2 tokenizes with its built-in BPE; the llama family needs the repo's tokenizer.json (absent: token_ids only).
    if (family === 'llama') for (const f of OPTIONAL_FILES) await downloadFile(work, f, repo, revision, o, true);
  } catch (err) {
    // Keep partial files only when a later run can resume them (a dropped connection after some bytes).
    const resumable = err instanceof ProblemError && err.code === 'download_failed' && (await readdir(work)).length > 0;
    if (!resumable) await rm(work, { recursive: true, force: true });
    throw err;
  }
  try {
    return await importCheckpoint(work, { modelsDir, name, force: o.force ?? false, move: true });
  } finally {
    // Verified files that fail inspection are useless for a resume; installed ones were moved out already.
    await rm(work, { recursive: true, force: true });
  }
}
