// Imports run one way, down the layers: a lower folder never imports a higher one.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(import.meta.dirname, '../src');

/** Folder -> the src folders it may import from (itself always allowed). */
const MAY_IMPORT: Record<string, readonly string[]> = {
  errors: [],
  arch: ['errors', 'config.ts'],
  hooks: ['arch', 'errors'],
  checkpoint: ['arch', 'errors'],
};

/** Folder -> src folders it must not import from. */
const MUST_NOT_IMPORT: Record<string, readonly string[]> = {
  // the stream and /trace share the plan and the decode step, not each other
  stream: ['trace', 'routes'],
  plan: ['trace', 'stream', 'routes', 'export'],
  decode: ['trace', 'stream', 'routes', 'plan'],
};

function importsOf(folder: string): { file: string; target: string }[] {
  const out: { file: string; target: string }[] = [];
  const dir = path.join(SRC, folder);
  for (const f of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    if (!f.endsWith('.ts')) continue;
    const text = readFileSync(path.join(dir, f), 'utf8');
    for (const m of text.matchAll(/from '(\.[^']+)'/g)) {
      const abs = path.resolve(path.dirname(path.join(dir, f)), m[1] ?? '');
      const rel = path.relative(SRC, abs).split(path.sep);
      const top = rel.length === 1 ? (rel[0] ?? '').replace(/\.js$/, '.ts') : (rel[0] ?? '');
      out.push({ file: `${folder}/${f}`, target: top });
    }
  }
  return out;
}

describe('layering', () => {
  for (const [folder, allowed] of Object.entries(MAY_IMPORT)) {
    it(`src/${folder} imports only from ${allowed.join(', ') || 'itself'}`, () => {
      const upward = importsOf(folder).filter((i) => i.target !== folder && !allowed.includes(i.target));
      expect(upward).toEqual([]);
    });
  }
  for (const [folder, banned] of Object.entries(MUST_NOT_IMPORT)) {
    it(`src/${folder} imports nothing from ${banned.join(', ')}`, () => {
      expect(importsOf(folder).filter((i) => banned.includes(i.target))).toEqual([]);
    });
  }
});
