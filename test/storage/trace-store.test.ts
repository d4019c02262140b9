import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tmpNameFor, writeFileAtomic } from '../../src/storage/atomic-file.js';
import { DB_FILE, TENSORS_DIR, TRACE_ID_PATTERN, TraceStore, type TraceToSave } from '../../src/storage/trace-store.js';

const trace = (n: number, bytes = 100): TraceToSave => ({
  model: 'm',
  weightsSha256: 'ab'.repeat(32),
  nTokens: n,
  preview: `prompt ${n}`,
  recipe: { n },
  result: { n },
  tensors: { byteLength: bytes, chunks: [Buffer.alloc(bytes, n)] },
});
// what a trace of `trace(n, bytes)` counts: file + the two JSON texts
const cost = (n: number, bytes = 100) => bytes + 2 * JSON.stringify({ n }).length;

describe('TraceStore on a real SQLite file', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'tensortrace-store-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('puts, gets, lists newest first with a cursor, deletes, and survives a reopen', async () => {
    let { store } = await TraceStore.open(dir, { maxCount: 100, maxBytes: 1e9 });
    const ids: string[] = [];
    for (let i = 1; i <= 5; i++) ids.push((await store.put(trace(i))).id);
    for (const id of ids) expect(id).toMatch(TRACE_ID_PATTERN);
    expect(new Set(ids).size).toBe(5);
    expect(store.get(ids[2])?.recipe).toEqual({ n: 3 });
    expect(store.get(ids[2])?.preview).toBe('prompt 3');
    const bytes = await readFile(store.tensorPath(ids[2]));
    expect(bytes.length).toBe(100);
    expect(bytes.every((b) => b === 3)).toBe(true);

    const p1 = store.list(2);
    expect(p1.items.map((t) => t.id)).toEqual([ids[4], ids[3]]);
    const p2 = store.list(2, p1.next_cursor ?? undefined);
    expect(p2.items.map((t) => t.id)).toEqual([ids[2], ids[1]]);
    const p3 = store.list(2, p2.next_cursor ?? undefined);
    expect(p3.items.map((t) => t.id)).toEqual([ids[0]]);
    expect(p3.next_cursor).toBeNull();

    expect(await store.delete(ids[1])).toBe(true);
    expect(await store.delete(ids[1])).toBe(false);
    expect(store.get(ids[1])).toBeUndefined();
    expect(existsSync(store.tensorPath(ids[1]))).toBe(false);
    expect(store.totals()).toEqual({ count: 4, bytes: 4 * cost(1) });
    store.close();

    ({ store } = await TraceStore.open(dir, { maxCount: 100, maxBytes: 1e9 }));
    expect(store.list(10).items.map((t) => t.id)).toEqual([ids[4], ids[3], ids[2], ids[0]]);
    store.close();
  });

  it('evicts oldest first by count and by bytes; refuses one trace over the byte limit alone', async () => {
    const { store } = await TraceStore.open(dir, { maxCount: 3, maxBytes: 4 * cost(1) + 50 });
    const ids: string[] = [];
    for (let i = 1; i <= 3; i++) ids.push((await store.put(trace(i))).id);
    const fourth = await store.put(trace(4));
    expect(fourth.evicted).toEqual([ids[0]]);
    expect(existsSync(store.tensorPath(ids[0]))).toBe(false);
    expect(store.list(10).items.map((t) => t.id)).toEqual([fourth.id, ids[2], ids[1]]);

    // 200 bytes more than the others: two of the three must go to fit the byte limit
    const big = await store.put(trace(5, 300));
    expect(big.evicted).toEqual([ids[1], ids[2]]);
    expect(store.list(10).items.map((t) => t.id)).toEqual([big.id, fourth.id]);
    expect(store.totals().bytes).toBeLessThanOrEqual(4 * cost(1) + 50);
    expect((await readdir(path.join(dir, TENSORS_DIR))).sort()).toEqual(
      [`${big.id}.safetensors`, `${fourth.id}.safetensors`].sort(),
    );

    await expect(store.put(trace(6, 10_000))).rejects.toMatchObject({
      statusCode: 413,
      code: 'trace_too_large_to_store',
    });
    expect(store.totals().count).toBe(2);
    expect((await readdir(path.join(dir, TENSORS_DIR))).length).toBe(2);
    store.close();
  });

  it('after a crash: a leftover tmp file, a file without a row and a row without a file are all removed at open', async () => {
    let { store } = await TraceStore.open(dir, { maxCount: 100, maxBytes: 1e9 });
    const kept = (await store.put(trace(1))).id;
    const lost = (await store.put(trace(2))).id;
    const tensorsDir = path.join(dir, TENSORS_DIR);
    // a write interrupted before its rename
    const tmp = tmpNameFor(path.join(tensorsDir, 'AAAAAAAAAAAAAAAA.safetensors'));
    await writeFile(tmp, 'half a file');
    // renamed but the row was never committed
    await writeFile(path.join(tensorsDir, 'BBBBBBBBBBBBBBBB.safetensors'), 'orphan');
    store.close();
    // a row whose file is gone (deleted by hand, or a disk that lost it)
    await rm(path.join(tensorsDir, `${lost}.safetensors`));

    let sweep: Awaited<ReturnType<typeof TraceStore.open>>['sweep'];
    ({ store, sweep } = await TraceStore.open(dir, { maxCount: 100, maxBytes: 1e9 }));
    expect(sweep).toEqual({ tmpFiles: 1, orphanFiles: 1, rowsWithoutFile: 1 });
    expect(await readdir(tensorsDir)).toEqual([`${kept}.safetensors`]);
    expect(store.list(10).items.map((t) => t.id)).toEqual([kept]);
    expect(store.get(lost)).toBeUndefined();
    store.close();

    // the database itself is a plain SQLite file others can read
    const db = new Database(path.join(dir, DB_FILE), { readonly: true });
    expect(db.prepare('SELECT COUNT(*) AS n FROM traces').get()).toEqual({ n: 1 });
    db.close();
  });

  it('a failing write leaves no file behind and no row', async () => {
    const { store } = await TraceStore.open(dir, { maxCount: 100, maxBytes: 1e9 });
    function* failing() {
      yield Buffer.alloc(10);
      throw new Error('disk full');
    }
    await expect(store.put({ ...trace(1), tensors: { byteLength: 10, chunks: failing() } })).rejects.toThrow(
      'disk full',
    );
    expect(await readdir(path.join(dir, TENSORS_DIR))).toEqual([]);
    expect(store.totals().count).toBe(0);
    store.close();
  });

  it('writeFileAtomic replaces a file whole and leaves no tmp file', async () => {
    const target = path.join(dir, 'f.bin');
    await writeFile(target, 'old');
    expect(await writeFileAtomic(target, [Buffer.from('new '), Buffer.from('content')])).toBe(11);
    expect(await readFile(target, 'utf8')).toBe('new content');
    expect(await readdir(dir)).toEqual(['f.bin']);
  });
});
