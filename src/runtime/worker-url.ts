// The URL to start a worker thread's entry module from, when running the built .js or the .ts sources under tsx.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The entry `name` next to the calling module (`import.meta.url` as `from`), with the caller's extension: tsx runs
 * the .ts sources, the build runs .js. Workers do not inherit tsx's loader hooks, and `--import tsx` in execArgv
 * comes too late for a .ts entry on Node 20: when running from source, boot through a tiny module that registers
 * tsx first, then imports the entry.
 */
export function workerUrl(name: string, from: string): URL {
  const ext = path.extname(fileURLToPath(from));
  const entry = new URL(`./${name}${ext}`, from);
  if (ext !== '.ts') return entry;
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `const { register } = await import(${JSON.stringify(tsx)}); register(); await import(${JSON.stringify(entry.href)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(boot)}`);
}
