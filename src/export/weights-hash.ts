// sha256 of a model's model.safetensors, streamed (never blocks the event loop) and cached per file version.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';

const cache = new Map<string, Promise<string>>();

/** Hex sha256 of `<dir>/model.safetensors`; recomputed when the file's size or mtime changes. */
export async function weightsSha256(modelDir: string): Promise<string> {
  const file = path.join(modelDir, 'model.safetensors');
  const s = await stat(file);
  const key = `${file}:${s.size}:${s.mtimeMs}`;
  let hit = cache.get(key);
  if (!hit) {
    hit = new Promise<string>((resolve, reject) => {
      const hash = createHash('sha256');
      createReadStream(file)
        .on('data', (c) => hash.update(c))
        .on('error', reject)
        .on('end', () => resolve(hash.digest('hex')));
    });
    cache.set(key, hit);
    hit.catch(() => cache.delete(key));
  }
  return hit;
}
