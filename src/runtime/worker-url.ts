// The URL to start a worker thread's entry module from, when running the built .js or the .ts sources under tsx.
import path from 'node:path';

/**
 * `entry` names the module with the caller's extension (`new URL('./x' + path.extname(here), import.meta.url)`).
 * Workers do not inherit tsx's loader hooks, and `--import tsx` in execArgv comes too late for a .ts entry on
 * Node 20: when running from source, boot through a tiny module that registers tsx first, then imports the entry.
 */
export function workerUrl(entry: URL): URL {
  if (path.extname(entry.pathname) !== '.ts') return entry;
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `const { register } = await import(${JSON.stringify(tsx)}); register(); await import(${JSON.stringify(entry.href)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(boot)}`);
}
