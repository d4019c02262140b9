// Install a Hugging Face model folder (GPT-2 or llama family; one safetensors file or shards + index; tokenizer
// files when present) into MODELS_DIR: validated, copied as real bytes (symlinks followed, never hard links),
// each copy checked against its source's size and sha256, and renamed into place atomically.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, mkdir, readlink, realpath, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { badRequest, conflict, unprocessable } from '../errors/problem-error.js';
import { type AnyCheckpoint, type CheckpointSummary, inspectCheckpoint, summarize } from './any-checkpoint.js';

/** Files copied along with the weights when the source folder has them (the llama family's tokenizer). */
export const OPTIONAL_FILES = ['tokenizer.json', 'tokenizer_config.json', 'generation_config.json'] as const;

/** Folder names MODELS_DIR uses for other things (the architecture registry, our own work folders). */
const RESERVED_NAMES = new Set(['registry']);

/** Model names become folder names and URL segments: keep them short and unambiguous. */
export const MODEL_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface ImportOptions {
  /** Destination folder that holds one sub-folder per runnable model. */
  modelsDir: string;
  /** Model name (sub-folder); defaults to the source folder's name (the repo's name for a HF cache snapshot). */
  name?: string;
  /** Replace an existing model of the same name. */
  force?: boolean;
  /** Move the source files instead of copying (used after a download, whose work folder is thrown away). */
  move?: boolean;
}

export interface ImportResult {
  name: string;
  dir: string;
  checkpoint: CheckpointSummary;
  /** Bytes of the safetensors file(s). */
  bytes: number;
  /** Every file installed, in copy order. */
  files: string[];
  replaced: boolean;
}

export function checkModelName(name: string): string {
  if (!MODEL_NAME_PATTERN.test(name) || RESERVED_NAMES.has(name)) {
    throw badRequest(
      'invalid_model_name',
      `"${name}" cannot be a model name: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit (and not "registry").`,
    );
  }
  return name;
}

/**
 * The default name of a source folder: its own name, except for a Hugging Face cache snapshot
 * (`.../models--Owner--Repo/snapshots/<commit>`), which is named after the repo.
 */
export function defaultModelName(source: string): string {
  const parts = path.resolve(source).split(path.sep);
  const n = parts.length;
  if (n >= 3 && parts[n - 2] === 'snapshots' && parts[n - 3]?.startsWith('models--')) {
    return parts[n - 3]!.split('--').at(-1) as string;
  }
  return parts[n - 1] as string;
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

/** The files of a validated checkpoint that make up the installed model (names relative to the folder). */
export async function checkpointFiles(source: string, ckpt: AnyCheckpoint): Promise<string[]> {
  const weights =
    ckpt.family === 'gpt2'
      ? [path.basename(ckpt.ckpt.files.weights)]
      : ckpt.ckpt.files.weights.map((f) => path.basename(f));
  const files = ['config.json', ...weights];
  if (ckpt.family === 'llama' && weights.length > 1) files.push('model.safetensors.index.json');
  for (const f of OPTIONAL_FILES) {
    // lstat, not stat: a dangling symlink is an error (copyVerified says so), not an absent file.
    if (
      await lstat(path.join(source, f)).then(
        () => true,
        () => false,
      )
    )
      files.push(f);
  }
  return files;
}

/** The real file behind `file` (symlinks followed), or a 422 that says which link points where. */
async function resolveSource(file: string): Promise<string> {
  try {
    const real = await realpath(file);
    if (!(await stat(real)).isFile()) throw unprocessable('import_failed', `${file} is not a regular file.`);
    return real;
  } catch (err) {
    if (!(err as NodeJS.ErrnoException).code) throw err;
    const link = await readlink(file).catch(() => null);
    throw unprocessable(
      'import_failed',
      link === null
        ? `${file} cannot be read (${(err as NodeJS.ErrnoException).code}).`
        : `${file} is a symlink to ${link}, which does not exist (an incomplete download or a pruned cache?).`,
    );
  }
}

/** sha256 + byte count of a file. */
async function digest(p: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const c of createReadStream(p) as AsyncIterable<Buffer>) {
    hash.update(c);
    size += c.length;
  }
  return { sha256: hash.digest('hex'), size };
}

/**
 * Copy the bytes of `from` (following symlinks) into a new file `to` (never a link), hashing what was read, then
 * read the copy back and compare size and sha256. Returns the copy's size.
 */
export async function copyVerified(from: string, to: string): Promise<number> {
  const real = await resolveSource(from);
  const hash = createHash('sha256');
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  await pipeline(createReadStream(real), tap, createWriteStream(to, { flags: 'wx' }));
  const expected = hash.digest('hex');
  const got = await digest(to);
  if (got.size !== size || got.sha256 !== expected) {
    throw unprocessable(
      'import_failed',
      `The copy of ${from} does not match its source (${got.size} bytes, sha256 ${got.sha256}; read ${size} bytes, sha256 ${expected}): the disk may be full or the source changed while it was copied. Nothing was installed.`,
    );
  }
  return size;
}

/** Move (same file system) or copy-and-verify one file into the staging folder. */
async function placeFile(from: string, to: string, move: boolean): Promise<void> {
  if (move && !(await lstat(from)).isSymbolicLink()) {
    try {
      await rename(from, to);
      return;
    } catch {
      // Different file systems: copy; the caller deletes its work folder.
    }
  }
  await copyVerified(from, to);
}

/**
 * Validate `sourceDir` with the same inspector the runtime uses, then install it as `<modelsDir>/<name>`:
 * files are copied into a hidden temp folder first (real bytes, each verified), the copy is inspected again there,
 * and the folder is renamed into place, so a reader of MODELS_DIR never sees a half-written model and a later change
 * to the source cannot reach the installed model. Throws CheckpointError (names the bad tensor), `invalid_model_name`
 * (400), `model_exists` (409, without `force`) or `import_failed` (422: a dangling symlink, a copy that does not match).
 */
export async function importCheckpoint(sourceDir: string, options: ImportOptions): Promise<ImportResult> {
  const source = path.resolve(sourceDir);
  const name = checkModelName(options.name ?? defaultModelName(source));
  const inspected = await inspectCheckpoint(source);
  const files = await checkpointFiles(source, inspected);

  const modelsDir = path.resolve(options.modelsDir);
  const dest = path.join(modelsDir, name);
  if (dest === source) throw conflict('model_exists', `${source} is already the installed model "${name}".`);
  const present = await exists(dest);
  if (present && !options.force) {
    throw conflict(
      'model_exists',
      `A model named "${name}" already exists in ${modelsDir}; pass --force to replace it.`,
      {
        name,
      },
    );
  }

  await mkdir(modelsDir, { recursive: true });
  const suffix = randomBytes(4).toString('hex');
  const tmp = path.join(modelsDir, `.import-${name}-${suffix}`);
  const trash = path.join(modelsDir, `.replaced-${name}-${suffix}`);
  await mkdir(tmp);
  try {
    for (const file of files) await placeFile(path.join(source, file), path.join(tmp, file), options.move ?? false);
    // Inspect the installed copy too: it must be the same checkpoint the source was.
    await inspectCheckpoint(tmp);
    if (present) await rename(dest, trash);
    await rename(tmp, dest);
    if (present) await rm(trash, { recursive: true, force: true });
    const installed = await inspectCheckpoint(dest);
    const weights = installed.family === 'gpt2' ? [installed.ckpt.files.weights] : installed.ckpt.files.weights;
    let bytes = 0;
    for (const w of weights) bytes += (await stat(w)).size;
    return { name, dir: dest, checkpoint: summarize(installed), bytes, files, replaced: present };
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    // If the old model was moved aside but the new one could not take its place, put the old one back.
    if (present && !(await exists(dest)) && (await exists(trash))) await rename(trash, dest);
    throw err;
  }
}
