// Write a file so that a crash leaves either nothing or the whole file: tmp name, write, fsync, rename, fsync the folder.
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';

/** Infix of every temporary name: files holding it are never a finished file and may be deleted at start-up. */
export const TMP_INFIX = '.tmp-';

/** `<name>.tmp-<random>` beside the target: rename() within one folder is atomic on POSIX file systems. */
export function tmpNameFor(target: string): string {
  return `${target}${TMP_INFIX}${randomBytes(6).toString('hex')}`;
}

/** Write `chunks` to `target` atomically; returns the bytes written. The tmp file is removed on any failure. */
export async function writeFileAtomic(target: string, chunks: Iterable<Uint8Array>): Promise<number> {
  const tmp = tmpNameFor(target);
  let bytes = 0;
  const fh = await open(tmp, 'wx', 0o644);
  try {
    for (const chunk of chunks) {
      let done = 0;
      while (done < chunk.byteLength) {
        const { bytesWritten } = await fh.write(chunk, done, chunk.byteLength - done);
        done += bytesWritten;
      }
      bytes += chunk.byteLength;
    }
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  try {
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await syncDir(path.dirname(target));
  return bytes;
}

/** fsync a folder so a rename or unlink in it survives a power cut. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
