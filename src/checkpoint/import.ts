// Install a Hugging Face GPT-2 folder (config.json + model.safetensors) into MODELS_DIR, validated and atomic.
import { copyFile, link, mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { badRequest, conflict } from '../errors/problem-error.js';
import { inspectGpt2Checkpoint, type Gpt2Checkpoint } from './gpt2-checkpoint.js';

/** The two files a runnable model folder holds; anything else in the source folder is left behind. */
export const CHECKPOINT_FILES = ['config.json', 'model.safetensors'] as const;

/** Folder names MODELS_DIR uses for other things (the architecture registry, our own work folders). */
const RESERVED_NAMES = new Set(['registry']);

/** Model names become folder names and URL segments: keep them short and unambiguous. */
export const MODEL_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface ImportOptions {
  /** Destination folder that holds one sub-folder per runnable model. */
  modelsDir: string;
  /** Model name (sub-folder); defaults to the source folder's name. */
  name?: string;
  /** Replace an existing model of the same name. */
  force?: boolean;
  /** Move the source files instead of copying (used after a download, whose work folder is thrown away). */
  move?: boolean;
}

export interface ImportResult {
  name: string;
  dir: string;
  checkpoint: Gpt2Checkpoint;
  /** Bytes of model.safetensors. */
  bytes: number;
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

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

/** Hard-link when source and destination share a file system (no second copy of a large file), else copy. */
async function placeFile(from: string, to: string, move: boolean): Promise<void> {
  if (move) {
    try {
      await rename(from, to);
      return;
    } catch {
      // Different file systems: fall through to link/copy; the caller deletes its work folder.
    }
  }
  try {
    await link(from, to);
  } catch {
    await copyFile(from, to);
  }
}

/**
 * Validate `sourceDir` with the same inspector the runtime uses, then install it as `<modelsDir>/<name>`:
 * files go into a hidden temp folder first, are inspected again there, and the folder is renamed into place,
 * so a reader of MODELS_DIR never sees a half-written model. Throws CheckpointError (names the bad tensor),
 * `invalid_model_name` (400) or `model_exists` (409, without `force`).
 */
export async function importCheckpoint(sourceDir: string, options: ImportOptions): Promise<ImportResult> {
  const source = path.resolve(sourceDir);
  const name = checkModelName(options.name ?? path.basename(source));
  await inspectGpt2Checkpoint(source);

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
    for (const file of CHECKPOINT_FILES)
      await placeFile(path.join(source, file), path.join(tmp, file), options.move ?? false);
    // Inspect the installed copy too: a copy truncated by a full disk must not become a model.
    await inspectGpt2Checkpoint(tmp);
    if (present) await rename(dest, trash);
    await rename(tmp, dest);
    if (present) await rm(trash, { recursive: true, force: true });
    const checkpoint = await inspectGpt2Checkpoint(dest);
    return { name, dir: dest, checkpoint, bytes: checkpoint.header.fileSize, replaced: present };
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    // If the old model was moved aside but the new one could not take its place, put the old one back.
    if (present && !(await exists(dest)) && (await exists(trash))) await rename(trash, dest);
    throw err;
  }
}
