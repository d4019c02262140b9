// downloadModel + the model:download CLI against a loopback server that behaves like the Hugging Face hub.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describeRemoteFile, downloadModel } from '../../src/checkpoint/download.js';
import { ProblemError } from '../../src/errors/problem-error.js';
import { PROJECT_ROOT } from '../../src/config.js';
import { main as downloadCli } from '../../src/cli/model-download.js';

const TINY = path.join(PROJECT_ROOT, 'test/fixtures/tiny-gpt2');
const REPO = 'openai-community/gpt2';

let config: Buffer;
let weights: Buffer;
let weightsSha: string;
let server: Server;
let base: string;
let work: string;

/** What the fake hub does for the next requests; reset before each test. */
const hub = {
  /** Drop the connection halfway through this many full-body weight responses. */
  truncations: 0,
  /** sha256 announced in X-Linked-ETag (tests set a wrong one). */
  announcedSha: '',
  log: [] as { method: string; url: string; range?: string }[],
};

function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? '/';
  hub.log.push({ method: req.method ?? '', url, range: req.headers.range });
  // The hub redirects the legacy short repo names (gpt2) to their organisation (relative Location).
  if (url.startsWith('/gpt2/resolve/')) {
    res.writeHead(307, { location: url.replace('/gpt2/', `/${REPO}/`) }).end();
    return;
  }
  if (url === `/${REPO}/resolve/main/config.json`) {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': config.length, etag: '"gitblobsha1"' });
    res.end(req.method === 'HEAD' ? undefined : config);
    return;
  }
  if (url === `/${REPO}/resolve/main/model.safetensors`) {
    // LFS file: a 302 to the CDN that carries size and sha256, as huggingface.co does.
    res.writeHead(302, {
      location: `${base}/cdn/weights`,
      'x-linked-size': String(weights.length),
      'x-linked-etag': `"${hub.announcedSha}"`,
    });
    res.end();
    return;
  }
  if (url === '/cdn/weights') {
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const from = m ? Number(m[1]) : 0;
    const body = weights.subarray(from);
    const headers: Record<string, string | number> = { 'content-length': body.length, 'accept-ranges': 'bytes' };
    if (m) headers['content-range'] = `bytes ${from}-${weights.length - 1}/${weights.length}`;
    res.writeHead(m ? 206 : 200, headers);
    if (!m && hub.truncations > 0) {
      hub.truncations--;
      res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.destroy());
      return;
    }
    res.end(body);
    return;
  }
  res.writeHead(404, { 'x-error-code': 'RepoNotFound' }).end('Repository not found');
}

beforeAll(async () => {
  config = await readFile(path.join(TINY, 'config.json'));
  weights = await readFile(path.join(TINY, 'model.safetensors'));
  weightsSha = createHash('sha256').update(weights).digest('hex');
  server = createServer(handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  work = await mkdtemp(path.join(os.tmpdir(), 'tt-download-'));
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await rm(work, { recursive: true, force: true });
});
beforeEach(() => {
  hub.truncations = 0;
  hub.announcedSha = weightsSha;
  hub.log = [];
});

async function rejection(p: Promise<unknown>): Promise<ProblemError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProblemError);
  return err as ProblemError;
}

const sha = async (p: string) =>
  createHash('sha256')
    .update(await readFile(p))
    .digest('hex');

describe('downloadModel', () => {
  it('downloads, verifies and installs gpt2 (short name -> openai-community/gpt2)', async () => {
    const models = path.join(work, 'full');
    const seen: number[] = [];
    const r = await downloadModel('gpt2', {
      modelsDir: models,
      baseUrl: base,
      onProgress: (p) => seen.push(p.received),
    });
    expect(r.name).toBe('gpt2');
    expect(await sha(path.join(models, 'gpt2', 'model.safetensors'))).toBe(weightsSha);
    expect(await readdir(models)).toEqual(['gpt2']); // the .download-gpt2 work folder is gone
    expect(seen.at(-1)).toBe(weights.length);
    expect(hub.log.filter((l) => l.method === 'HEAD').map((l) => l.url)).toEqual([
      `/${REPO}/resolve/main/config.json`,
      `/${REPO}/resolve/main/model.safetensors`,
    ]);
  });

  it('reads size and sha256 from the LFS redirect, following relative repo redirects', async () => {
    const remote = await describeRemoteFile(`${base}/gpt2/resolve/main/model.safetensors`, 'gpt2');
    expect(remote).toEqual({
      url: `${base}/${REPO}/resolve/main/model.safetensors`,
      size: weights.length,
      sha256: weightsSha,
    });
    const small = await describeRemoteFile(`${base}/${REPO}/resolve/main/config.json`, REPO);
    expect(small).toEqual({ url: `${base}/${REPO}/resolve/main/config.json`, size: config.length, sha256: undefined });
  });

  it('resumes with a Range request after the server drops the connection mid-body', async () => {
    hub.truncations = 1;
    const models = path.join(work, 'resume');
    const retries: number[] = [];
    await downloadModel('gpt2', { modelsDir: models, baseUrl: base, onRetry: (i) => retries.push(i.resumeFrom) });
    // Bytes still queued in the client when the socket died are lost, so the resume point is at most half.
    expect(retries).toHaveLength(1);
    const from = retries[0] as number;
    expect(from).toBeGreaterThan(0);
    expect(from).toBeLessThanOrEqual(Math.floor(weights.length / 2));
    expect(hub.log.filter((l) => l.url === '/cdn/weights').map((l) => l.range)).toEqual([undefined, `bytes=${from}-`]);
    expect(await sha(path.join(models, 'gpt2', 'model.safetensors'))).toBe(weightsSha);
  });

  it('keeps the partial file when out of retries, and the next run resumes from it', async () => {
    hub.truncations = 1;
    const models = path.join(work, 'resume-later');
    const err = await rejection(downloadModel('gpt2', { modelsDir: models, baseUrl: base, retries: 0 }));
    expect([err.statusCode, err.code]).toEqual([503, 'download_failed']);
    const partial = (await stat(path.join(models, '.download-gpt2', 'model.safetensors.part'))).size;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(weights.length);
    expect(await readdir(models)).toEqual(['.download-gpt2']);
    await downloadModel('gpt2', { modelsDir: models, baseUrl: base, retries: 0 });
    expect(hub.log.filter((l) => l.url === '/cdn/weights').at(-1)?.range).toBe(`bytes=${partial}-`);
    expect(await sha(path.join(models, 'gpt2', 'model.safetensors'))).toBe(weightsSha);
  });

  it('fails on a wrong checksum and installs nothing', async () => {
    hub.announcedSha = 'ab'.repeat(32);
    const models = path.join(work, 'badsum');
    const err = await rejection(downloadModel('gpt2', { modelsDir: models, baseUrl: base }));
    expect([err.statusCode, err.code]).toEqual([422, 'checksum_mismatch']);
    expect(err.detail).toContain(weightsSha);
    expect(await readdir(models)).toEqual([]);
  });

  it('reports a repository the hub does not have as 404 repo_not_found', async () => {
    const err = await rejection(
      downloadModel('nobody/no-such-gpt2', { modelsDir: path.join(work, 'missing'), baseUrl: base }),
    );
    expect([err.statusCode, err.code]).toEqual([404, 'repo_not_found']);
    expect(err.detail).toContain('nobody/no-such-gpt2');
  });

  it('refuses an unknown short name and an existing model before downloading', async () => {
    const unknown = await rejection(downloadModel('gpt5', { modelsDir: path.join(work, 'x'), baseUrl: base }));
    expect([unknown.statusCode, unknown.code]).toEqual([400, 'unknown_model']);
    const models = path.join(work, 'twice');
    await downloadModel('gpt2', { modelsDir: models, baseUrl: base });
    hub.log = [];
    const again = await rejection(downloadModel('gpt2', { modelsDir: models, baseUrl: base }));
    expect([again.statusCode, again.code]).toEqual([409, 'model_exists']);
    expect(hub.log).toEqual([]);
  });
});

describe('model:download CLI', () => {
  const io = (env: Record<string, string | undefined>) => {
    const o = {
      stdout: '',
      stderr: '',
      env,
      isTty: false,
      out: (t: string) => void (o.stdout += t),
      err: (t: string) => void (o.stderr += t),
    };
    return o;
  };

  it('reads HF_ENDPOINT, prints progress on stderr and exits 0', async () => {
    const o = io({ HF_ENDPOINT: base });
    const code = await downloadCli(['gpt2', '--name', 'g', '--models-dir', path.join(work, 'cli')], o);
    expect(code).toBe(0);
    expect(o.stderr).toMatch(/model\.safetensors: [\d.]+ \/ [\d.]+ MB \(100%\)/);
    expect(o.stdout).toMatch(/Installed "g" .*3 layers/);
  });

  it('exits 1 with one line and no stack trace for a missing repo', async () => {
    const o = io({});
    const code = await downloadCli(['nobody/nothing', '--base-url', base, '--models-dir', path.join(work, 'cli2')], o);
    expect(code).toBe(1);
    expect(o.stderr).toMatch(/Error \(repo_not_found\): .*nobody\/nothing/);
    expect(o.stderr).not.toMatch(/\n\s+at /);
  });
});
