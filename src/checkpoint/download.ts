// Fetch a GPT-2 checkpoint (config.json + model.safetensors) from the Hugging Face hub, resumable and verified.
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
import { checkModelName, importCheckpoint, type ImportResult } from './import.js';

/** Short names for the five GPT-2 checkpoints; any other `owner/name` hub repo id is accepted as is. */
export const KNOWN_GPT2_REPOS: Readonly<Record<string, string>> = {
  distilgpt2: 'distilbert/distilgpt2',
  gpt2: 'openai-community/gpt2',
  'gpt2-medium': 'openai-community/gpt2-medium',
  'gpt2-large': 'openai-community/gpt2-large',
  'gpt2-xl': 'openai-community/gpt2-xl',
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
  const repo = KNOWN_GPT2_REPOS[model] ?? model;
  if (!REPO_ID.test(repo)) {
    throw badRequest(
      'unknown_model',
      `"${model}" is neither a known GPT-2 (${Object.keys(KNOWN_GPT2_REPOS).join(', ')}) nor a hub repo id like owner/name.`,
    );
  }
  return { repo, name: KNOWN_GPT2_REPOS[model] ? model : (repo.split('/')[1] as string) };
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

function failForStatus(res: Response, url: string, repo: string): ProblemError {
  if (res.status === 401 || res.status === 403 || res.status === 404) {
    return notFound(
      'repo_not_found',
      `${url} answered ${res.status}: the repository "${repo}" or the file does not exist, or it needs a token (HF_TOKEN).`,
    );
  }
  return serviceUnavailable('download_failed', `${url} answered HTTP ${res.status} ${res.statusText}.`);
}

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
    if (res.status >= 400) throw failForStatus(res, current, repo);
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
  if (res.status >= 400) throw failForStatus(res, remote.url, repo);
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

/** Download one file to `<work>/<file>` with resume, size and sha256 checks. */
async function downloadFile(
  work: string,
  file: string,
  repo: string,
  revision: string,
  o: DownloadOptions,
): Promise<void> {
  const remote = await describeRemoteFile(
    fileUrl(o.baseUrl ?? DEFAULT_HF_ENDPOINT, repo, revision, file),
    repo,
    o.token,
  );
  const part = path.join(work, `${file}.part`);
  const retries = o.retries ?? 3;
  for (let attempt = 0; ; attempt++) {
    try {
      await fetchInto(remote, part, file, repo, o);
      break;
    } catch (err) {
      if (err instanceof ProblemError && err.code === 'repo_not_found') throw err;
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
  await rename(part, path.join(work, file));
}

/**
 * Download `config.json` + `model.safetensors` of a hub repo into `<modelsDir>/.download-<name>/` (kept
 * between runs so an interrupted download resumes), verify them, then install with importCheckpoint.
 */
export async function downloadModel(model: string, o: DownloadOptions): Promise<ImportResult> {
  const { repo, name: defaultName } = resolveRepo(model);
  const name = checkModelName(o.name ?? defaultName);
  const revision = o.revision ?? 'main';
  const modelsDir = path.resolve(o.modelsDir);
  if (!o.force && (await sizeOf(path.join(modelsDir, name, 'model.safetensors'))) > 0) {
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
    for (const file of ['config.json', 'model.safetensors']) await downloadFile(work, file, repo, revision, o);
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
