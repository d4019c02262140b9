// model:download of llama-family repos against a loopback server that behaves like the Hugging Face hub: short names,
// tokenizer files, sharded checkpoints (index + shards), gated repos (401 without a token, 403 with a token that has
// no access), resume of an interrupted shard, and refusals before any weight is fetched.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { downloadModel, KNOWN_REPOS } from '../../src/checkpoint/download.js';
import { ProblemError } from '../../src/errors/problem-error.js';
import { PROJECT_ROOT } from '../../src/config.js';
import { main as downloadCli } from '../../src/cli/model-download.js';

const LLAMA_MINI = path.join(PROJECT_ROOT, 'models/llama-mini');
const SHARDED = path.join(PROJECT_ROOT, 'test/fixtures/tiny-qwen2');
const LLAMA_FILES = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'];
const SHARD_1 = 'model-00001-of-00002.safetensors';
const SHARD_2 = 'model-00002-of-00002.safetensors';
const SHARDED_FILES = ['config.json', SHARD_1, SHARD_2, 'model.safetensors.index.json'];
const GATED = 'meta-llama/Llama-3.2-1B';
const GRANTED = 'hf_granted';
const DENIED = 'hf_denied';

interface FakeRepo {
  files: Map<string, Buffer>;
  gated?: boolean;
}
const repos = new Map<string, FakeRepo>();
let server: Server;
let base: string;
let work: string;

/** What the fake hub does for the next requests; reset before each test. */
const hub = {
  /** Drop the connection halfway through the next full-body response of this file. */
  truncate: '',
  log: [] as { method: string; url: string; range?: string; auth?: string }[],
};

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function folder(dir: string, files: string[]): Promise<Map<string, Buffer>> {
  const m = new Map<string, Buffer>();
  for (const f of files) m.set(f, await readFile(path.join(dir, f)));
  return m;
}

function refuse(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { 'x-error-code': code, 'x-error-message': message }).end(message);
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? '/';
  const auth = req.headers.authorization;
  hub.log.push({ method: req.method ?? '', url, range: req.headers.range, auth });
  const cdn = /^\/cdn\/([^/]+\/[^/]+)\/(.+)$/.exec(url);
  if (cdn) {
    // The CDN behind the LFS redirect: signed URLs, no token needed, Range supported.
    const body = repos.get(cdn[1] as string)?.files.get(cdn[2] as string) as Buffer;
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const from = m ? Number(m[1]) : 0;
    const part = body.subarray(from);
    const headers: Record<string, string | number> = { 'content-length': part.length, 'accept-ranges': 'bytes' };
    if (m) headers['content-range'] = `bytes ${from}-${body.length - 1}/${body.length}`;
    res.writeHead(m ? 206 : 200, headers);
    if (!m && hub.truncate === cdn[2]) {
      hub.truncate = '';
      // Half the body, then a dead connection once the client has had time to store what arrived.
      res.write(part.subarray(0, Math.floor(part.length / 2)), () => setTimeout(() => res.destroy(), 100));
      return;
    }
    res.end(part);
    return;
  }
  const r = /^\/([^/]+\/[^/]+)\/resolve\/main\/(.+)$/.exec(url);
  const repo = r ? repos.get(r[1] as string) : undefined;
  if (!r || !repo) {
    // huggingface.co answers 401 RepoNotFound to anonymous requests for repos that do not exist (or are private).
    refuse(res, 401, 'RepoNotFound', 'Repository not found');
    return;
  }
  if (repo.gated && auth !== `Bearer ${GRANTED}`) {
    if (auth === `Bearer ${DENIED}`) {
      refuse(res, 403, 'GatedRepo', `Access to model ${r[1]} is restricted and you are not in the authorized list.`);
    } else if (auth) {
      refuse(res, 401, 'GatedRepo', 'Invalid credentials in Authorization header');
    } else {
      refuse(res, 401, 'GatedRepo', `Access to model ${r[1]} is restricted. You must be authenticated to access it.`);
    }
    return;
  }
  const file = r[2] as string;
  const body = repo.files.get(file);
  if (!body) {
    refuse(res, 404, 'EntryNotFound', `${file} does not exist on "main"`);
    return;
  }
  if (file.endsWith('.safetensors')) {
    res
      .writeHead(302, {
        location: `${base}/cdn/${r[1]}/${file}`,
        'x-linked-size': String(body.length),
        'x-linked-etag': `"${sha256(body)}"`,
      })
      .end();
    return;
  }
  res.writeHead(200, { 'content-length': body.length });
  res.end(req.method === 'HEAD' ? undefined : body);
}

beforeAll(async () => {
  repos.set('HuggingFaceTB/SmolLM2-135M', { files: await folder(LLAMA_MINI, LLAMA_FILES) });
  repos.set('Qwen/Qwen2.5-0.5B', { files: await folder(SHARDED, SHARDED_FILES) });
  repos.set(GATED, { files: await folder(LLAMA_MINI, LLAMA_FILES), gated: true });
  repos.set('someone/bert', { files: new Map([['config.json', Buffer.from('{"model_type": "bert"}')]]) });
  repos.set('someone/pickled', {
    files: new Map([
      ['config.json', await readFile(path.join(LLAMA_MINI, 'config.json'))],
      ['pytorch_model.bin', Buffer.from('not read')],
    ]),
  });
  server = createServer(handle);
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  work = await mkdtemp(path.join(os.tmpdir(), 'tt-download-llama-'));
});
afterAll(async () => {
  await new Promise((res) => server.close(res));
  await rm(work, { recursive: true, force: true });
});
beforeEach(() => {
  hub.truncate = '';
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

async function expectInstalled(dir: string, source: string, files: string[]): Promise<void> {
  expect((await readdir(dir)).sort()).toEqual([...files].sort());
  for (const f of files)
    expect(sha256(await readFile(path.join(dir, f))), f).toBe(sha256(await readFile(path.join(source, f))));
}

const heads = () =>
  hub.log.filter((l) => l.method === 'HEAD').map((l) => l.url.replace(/^\/[^/]+\/[^/]+\/resolve\/main\//, ''));
const cdnGets = () => hub.log.filter((l) => l.method === 'GET' && l.url.startsWith('/cdn/'));

describe('downloadModel: llama family', () => {
  it('knows the four short names', () => {
    expect(KNOWN_REPOS).toMatchObject({
      'smollm2-135m': 'HuggingFaceTB/SmolLM2-135M',
      'qwen2.5-0.5b': 'Qwen/Qwen2.5-0.5B',
      'qwen3-0.6b': 'Qwen/Qwen3-0.6B',
      'llama-3.2-1b': GATED,
    });
  });

  it('downloads config, weights and tokenizer files of smollm2-135m; absent optional files are skipped', async () => {
    const models = path.join(work, 'smol');
    const r = await downloadModel('smollm2-135m', { modelsDir: models, baseUrl: base });
    expect(r.name).toBe('smollm2-135m');
    expect(r.checkpoint).toMatchObject({ family: 'llama', modelType: 'llama' });
    await expectInstalled(r.dir, LLAMA_MINI, LLAMA_FILES);
    expect(heads()).toEqual([
      'config.json',
      'model.safetensors',
      'tokenizer.json',
      'tokenizer_config.json',
      'generation_config.json',
    ]);
    expect(await readdir(models)).toEqual(['smollm2-135m']);
  });

  it('downloads a sharded checkpoint: model.safetensors is absent, so the index and every shard it names', async () => {
    const models = path.join(work, 'sharded');
    const r = await downloadModel('qwen2.5-0.5b', { modelsDir: models, baseUrl: base });
    expect(r.checkpoint.modelType).toBe('qwen2');
    await expectInstalled(r.dir, SHARDED, SHARDED_FILES);
    expect(heads().slice(0, 5)).toEqual([
      'config.json',
      'model.safetensors',
      'model.safetensors.index.json',
      SHARD_1,
      SHARD_2,
    ]);
    expect(r.bytes).toBe(
      (await stat(path.join(SHARDED, SHARD_1))).size + (await stat(path.join(SHARDED, SHARD_2))).size,
    );
  });

  it('resumes an interrupted shard in the next run without fetching the finished one again', async () => {
    const models = path.join(work, 'sharded-resume');
    hub.truncate = SHARD_2;
    const err = await rejection(downloadModel('qwen2.5-0.5b', { modelsDir: models, baseUrl: base, retries: 0 }));
    expect([err.statusCode, err.code]).toEqual([503, 'download_failed']);
    const left = (await readdir(path.join(models, '.download-qwen2.5-0.5b'))).sort();
    expect(left).toEqual(['config.json', SHARD_1, `${SHARD_2}.part`, 'model.safetensors.index.json']);
    const partial = (await stat(path.join(models, '.download-qwen2.5-0.5b', `${SHARD_2}.part`))).size;
    expect(partial).toBeGreaterThan(0);
    hub.log = [];
    const r = await downloadModel('qwen2.5-0.5b', { modelsDir: models, baseUrl: base, retries: 0 });
    expect(cdnGets().map((l) => [l.url.split('/').at(-1), l.range])).toEqual([[SHARD_2, `bytes=${partial}-`]]);
    await expectInstalled(r.dir, SHARDED, SHARDED_FILES);
  });

  it('a gated repo without HF_TOKEN: 401 auth_required that says to set HF_TOKEN; nothing installed', async () => {
    const models = path.join(work, 'gated-anon');
    const err = await rejection(downloadModel('llama-3.2-1b', { modelsDir: models, baseUrl: base }));
    expect([err.statusCode, err.code]).toEqual([401, 'auth_required']);
    expect(err.detail).toContain('Set HF_TOKEN');
    expect(err.detail).toContain(`accept its licence on ${base}/${GATED}`);
    expect(err.detail).toContain('You must be authenticated');
    expect(await readdir(models)).toEqual([]);
  });

  it('a gated repo with a token that has no access: 403 access_denied naming the licence page', async () => {
    const models = path.join(work, 'gated-denied');
    const err = await rejection(downloadModel('llama-3.2-1b', { modelsDir: models, baseUrl: base, token: DENIED }));
    expect([err.statusCode, err.code]).toEqual([403, 'access_denied']);
    expect(err.detail).toMatch(/account HF_TOKEN belongs to has no access to "meta-llama\/Llama-3\.2-1B"/);
    expect(err.detail).toContain(`${base}/${GATED}`);
    expect(hub.log.every((l) => l.auth === `Bearer ${DENIED}`)).toBe(true);
    expect(await readdir(models)).toEqual([]);
  });

  it('a token the hub does not accept: 401 that says so', async () => {
    const err = await rejection(
      downloadModel('llama-3.2-1b', { modelsDir: path.join(work, 'gated-bad'), baseUrl: base, token: 'hf_typo' }),
    );
    expect([err.statusCode, err.code]).toEqual([401, 'auth_required']);
    expect(err.detail).toContain('although HF_TOKEN is set');
  });

  it('a gated repo with a granted token downloads (the token goes to the hub, not to the CDN)', async () => {
    const r = await downloadModel('llama-3.2-1b', {
      modelsDir: path.join(work, 'gated-ok'),
      baseUrl: base,
      token: GRANTED,
    });
    await expectInstalled(r.dir, LLAMA_MINI, LLAMA_FILES);
    expect(hub.log.filter((l) => !l.url.startsWith('/cdn/')).every((l) => l.auth === `Bearer ${GRANTED}`)).toBe(true);
  });

  it('refuses a model_type that cannot run before fetching any weight', async () => {
    const models = path.join(work, 'bert');
    const err = await rejection(downloadModel('someone/bert', { modelsDir: models, baseUrl: base }));
    expect([err.statusCode, err.code]).toEqual([422, 'invalid_checkpoint']);
    expect(err.detail).toMatch(/model_type "bert".*runnable: gpt2, llama, qwen2, qwen3, mistral/);
    expect(heads()).toEqual(['config.json']);
    expect(await readdir(models)).toEqual([]);
  });

  it('a repo without safetensors weights: 404 weights_not_found', async () => {
    const err = await rejection(
      downloadModel('someone/pickled', { modelsDir: path.join(work, 'pickled'), baseUrl: base }),
    );
    expect([err.statusCode, err.code]).toEqual([404, 'weights_not_found']);
    expect(err.detail).toContain('pytorch_model.bin is not read');
  });

  it('a repo the hub does not know (401 RepoNotFound to anonymous requests): repo_not_found', async () => {
    const err = await rejection(downloadModel('nobody/nothing', { modelsDir: path.join(work, 'none'), baseUrl: base }));
    expect([err.statusCode, err.code]).toEqual([404, 'repo_not_found']);
    expect(err.detail).toContain('needs a token (HF_TOKEN)');
  });
});

describe('model:download CLI: gated repos', () => {
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

  it('exits 1 with one line saying a token is needed, and installs with HF_TOKEN', async () => {
    const models = path.join(work, 'cli-gated');
    const anon = io({ HF_ENDPOINT: base });
    expect(await downloadCli(['llama-3.2-1b', '--models-dir', models], anon)).toBe(1);
    expect(anon.stderr).toMatch(/Error \(auth_required\): .*Set HF_TOKEN/);
    expect(anon.stderr).not.toMatch(/\n\s+at /);
    const ok = io({ HF_ENDPOINT: base, HF_TOKEN: GRANTED });
    expect(await downloadCli(['llama-3.2-1b', '--models-dir', models], ok)).toBe(0);
    expect(ok.stdout).toMatch(/Installed "llama-3\.2-1b" .*llama, 4 layers/);
  });
});
