// Bundle the page with esbuild: web/src/main.ts + web/styles.css + web/index.html -> dist/web (npm run build:web).
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const WEB_DIR = path.dirname(fileURLToPath(import.meta.url));
const PROJECT_ROOT = path.resolve(WEB_DIR, '..');

export interface BuildWebOptions {
  /** Output folder (default dist/web). It is emptied first. */
  outDir?: string;
  /** Minify JS and CSS (default true); false keeps the bundle readable when debugging. */
  minify?: boolean;
}

export interface BuildWebResult {
  outDir: string;
  files: { file: string; bytes: number }[];
  /** Short content hash appended to asset URLs in index.html, so a new build is never served from cache. */
  version: string;
}

export async function buildWeb(options: BuildWebOptions = {}): Promise<BuildWebResult> {
  const outDir = options.outDir ?? path.join(PROJECT_ROOT, 'dist', 'web');
  const minify = options.minify ?? true;
  await rm(outDir, { recursive: true, force: true });
  await mkdir(path.join(outDir, 'assets'), { recursive: true });

  const result = await build({
    entryPoints: { app: path.join(WEB_DIR, 'src', 'main.ts'), 'app-style': path.join(WEB_DIR, 'styles.css') },
    outdir: path.join(outDir, 'assets'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome109', 'firefox115', 'safari16'],
    minify,
    sourcemap: 'linked',
    legalComments: 'none',
    logLevel: 'silent',
    metafile: true,
  });
  // The page imports only types from src/; a runtime import of server code (zod, fastify...) would bloat the bundle.
  const leaked = Object.keys(result.metafile.inputs).filter((f) => f.includes('node_modules/') || f.startsWith('src/'));
  if (leaked.length > 0) throw new Error(`the page bundle pulled in server code: ${leaked.slice(0, 5).join(', ')}`);

  const js = await readFile(path.join(outDir, 'assets', 'app.js'));
  const css = await readFile(path.join(outDir, 'assets', 'app-style.css'));
  const version = createHash('sha256').update(js).update(css).digest('hex').slice(0, 10);
  const html = (await readFile(path.join(WEB_DIR, 'index.html'), 'utf8')).replaceAll('__VERSION__', version);
  await writeFile(path.join(outDir, 'index.html'), html);

  const files: BuildWebResult['files'] = [];
  for (const file of ['index.html', 'assets/app.js', 'assets/app-style.css']) {
    files.push({ file, bytes: (await stat(path.join(outDir, file))).size });
  }
  return { outDir, files, version };
}

// Run as a script (npm run build:web): build and print the sizes.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildWeb()
    .then((r) => {
      const lines = r.files.map((f) => `  ${f.file.padEnd(22)} ${(f.bytes / 1024).toFixed(1).padStart(7)} KiB`);
      process.stdout.write(
        `web bundle ${r.version} -> ${path.relative(process.cwd(), r.outDir) || r.outDir}\n${lines.join('\n')}\n`,
      );
    })
    .catch((err: unknown) => {
      process.stderr.write(`build:web failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    });
}
