// Saved traces: one SQLite row per trace (recipe + JSON reply) and its tensors as a safetensors file beside the database.
// A trace exists once its row is committed; its file is written (atomically) before that and unlinked after the row
// goes, so a crash at any point leaves at most an orphan or tmp file, which open() removes.
import { randomBytes } from 'node:crypto';
import { type FileHandle, mkdir, open, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import { payloadTooLarge } from '../errors/problem-error.js';
import { syncDir, TMP_INFIX, writeFileAtomic } from './atomic-file.js';
import { jsonBytes } from '../json/json-bytes.js';

export const DB_FILE = 'traces.db';
export const TENSORS_DIR = 'traces';
const TENSOR_EXT = '.safetensors';

/** Ids are 16 base64url characters (96 random bits): unguessable, and safe as a file name. */
export const TRACE_ID_PATTERN = /^[A-Za-z0-9_-]{16}$/;
const newId = () => randomBytes(12).toString('base64url');

export interface StoreLimits {
  maxCount: number;
  maxBytes: number;
}

/** What a caller hands in to save: JSON-able recipe and reply, and the tensor file as chunks. */
export interface TraceToSave {
  model: string;
  weightsSha256: string;
  nTokens: number;
  /** First characters of the prompt (or a token-id note) for the list. */
  preview: string;
  recipe: unknown;
  result: unknown;
  tensors: { byteLength: number; chunks: Iterable<Uint8Array> };
}

export interface SavedTraceSummary {
  id: string;
  created_at: string;
  model: string;
  weights_sha256: string;
  n_tokens: number;
  preview: string;
  tensor_bytes: number;
  total_bytes: number;
}

export interface SavedTrace extends SavedTraceSummary {
  recipe: unknown;
  result: unknown;
}

interface Row {
  seq: number;
  id: string;
  created_at: string;
  model: string;
  weights_sha256: string;
  n_tokens: number;
  preview: string;
  tensor_bytes: number;
  total_bytes: number;
}

export interface SweepReport {
  tmpFiles: number;
  orphanFiles: number;
  rowsWithoutFile: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS traces (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  model TEXT NOT NULL,
  weights_sha256 TEXT NOT NULL,
  n_tokens INTEGER NOT NULL,
  preview TEXT NOT NULL,
  recipe TEXT NOT NULL,
  result TEXT NOT NULL,
  tensor_bytes INTEGER NOT NULL,
  total_bytes INTEGER NOT NULL
);`;
const SUMMARY_COLUMNS = 'seq, id, created_at, model, weights_sha256, n_tokens, preview, tensor_bytes, total_bytes';

const summary = (r: Row): SavedTraceSummary => ({
  id: r.id,
  created_at: r.created_at,
  model: r.model,
  weights_sha256: r.weights_sha256,
  n_tokens: r.n_tokens,
  preview: r.preview,
  tensor_bytes: r.tensor_bytes,
  total_bytes: r.total_bytes,
});

export class TraceStore {
  private constructor(
    readonly dir: string,
    private readonly db: Database.Database,
    private readonly limits: StoreLimits,
  ) {}

  /** Open (creating) `<dir>/traces.db` and `<dir>/traces/`, then remove what an interrupted write or delete left. */
  static async open(dir: string, limits: StoreLimits): Promise<{ store: TraceStore; sweep: SweepReport }> {
    await mkdir(path.join(dir, TENSORS_DIR), { recursive: true });
    const db = new Database(path.join(dir, DB_FILE));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    db.exec(SCHEMA);
    const store = new TraceStore(dir, db, limits);
    return { store, sweep: await store.sweep() };
  }

  tensorPath(id: string): string {
    if (!TRACE_ID_PATTERN.test(id)) throw new Error(`not a trace id: ${id}`);
    return path.join(this.dir, TENSORS_DIR, `${id}${TENSOR_EXT}`);
  }

  /** Tmp files, files without a row, rows without a file: the traces of a crash. Each is removed. */
  async sweep(): Promise<SweepReport> {
    const folder = path.join(this.dir, TENSORS_DIR);
    const known = new Set((this.db.prepare('SELECT id FROM traces').pluck().all() as string[]).map(String));
    const report: SweepReport = { tmpFiles: 0, orphanFiles: 0, rowsWithoutFile: 0 };
    const present = new Set<string>();
    for (const name of await readdir(folder)) {
      const id = name.endsWith(TENSOR_EXT) ? name.slice(0, -TENSOR_EXT.length) : '';
      if (name.includes(TMP_INFIX)) report.tmpFiles++;
      else if (!known.has(id)) report.orphanFiles++;
      else {
        present.add(id);
        continue;
      }
      await rm(path.join(folder, name), { force: true, recursive: true });
    }
    const missing = [...known].filter((id) => !present.has(id));
    const del = this.db.prepare('DELETE FROM traces WHERE id = ?');
    this.db.transaction(() => {
      for (const id of missing) del.run(id);
    })();
    report.rowsWithoutFile = missing.length;
    if (report.tmpFiles + report.orphanFiles > 0) await syncDir(folder);
    return report;
  }

  /** Write the tensor file, then (one transaction) evict oldest-first to fit the limits and insert the row. */
  async put(t: TraceToSave): Promise<{ id: string; evicted: string[]; created_at: string }> {
    const recipe = JSON.stringify(t.recipe);
    const resultJson = jsonBytes(t.result); // the reply as it was sent (float32 lists included)
    const result = resultJson.toString();
    const total = t.tensors.byteLength + Buffer.byteLength(recipe) + resultJson.length;
    if (total > this.limits.maxBytes) {
      throw payloadTooLarge(
        'trace_too_large_to_store',
        `This trace would take ${total.toLocaleString('en-US')} bytes, over the store's limit of ` +
          `${this.limits.maxBytes.toLocaleString('en-US')} bytes for all saved traces (TRACES_MAX_BYTES). ` +
          'Select fewer hooks or positions.',
        { bytes: total, max_bytes: this.limits.maxBytes },
      );
    }
    const id = newId();
    const file = this.tensorPath(id);
    const written = await writeFileAtomic(file, t.tensors.chunks);
    const created_at = new Date().toISOString();
    let evicted: string[];
    try {
      evicted = this.db.transaction(() => {
        const out: string[] = [];
        const oldest = this.db.prepare('SELECT id, total_bytes FROM traces ORDER BY seq ASC LIMIT 1');
        const del = this.db.prepare('DELETE FROM traces WHERE id = ?');
        let { count, bytes } = this.totals();
        while (count > 0 && (count + 1 > this.limits.maxCount || bytes + total > this.limits.maxBytes)) {
          const o = oldest.get() as { id: string; total_bytes: number };
          del.run(o.id);
          out.push(o.id);
          count--;
          bytes -= o.total_bytes;
        }
        this.db
          .prepare(
            `INSERT INTO traces (id, created_at, model, weights_sha256, n_tokens, preview, recipe, result, tensor_bytes, total_bytes)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(id, created_at, t.model, t.weightsSha256, t.nTokens, t.preview, recipe, result, written, total);
        return out;
      })();
    } catch (err) {
      await rm(file, { force: true });
      throw err;
    }
    for (const old of evicted) await rm(this.tensorPath(old), { force: true });
    if (evicted.length > 0) await syncDir(path.join(this.dir, TENSORS_DIR));
    return { id, evicted, created_at };
  }

  get(id: string): SavedTrace | undefined {
    if (!TRACE_ID_PATTERN.test(id)) return undefined;
    const r = this.db.prepare(`SELECT ${SUMMARY_COLUMNS}, recipe, result FROM traces WHERE id = ?`).get(id) as
      | (Row & { recipe: string; result: string })
      | undefined;
    if (!r) return undefined;
    return { ...summary(r), recipe: JSON.parse(r.recipe), result: JSON.parse(r.result) };
  }

  /** The tensor file opened for reading (an open descriptor outlives a concurrent delete), or undefined. */
  async openTensors(id: string): Promise<{ stream: NodeJS.ReadableStream; bytes: number } | undefined> {
    if (!TRACE_ID_PATTERN.test(id) || !this.db.prepare('SELECT 1 FROM traces WHERE id = ?').get(id)) return undefined;
    let fh: FileHandle;
    try {
      fh = await open(this.tensorPath(id), 'r');
    } catch {
      return undefined;
    }
    const { size } = await fh.stat();
    return { stream: fh.createReadStream({ autoClose: true }), bytes: size };
  }

  /** Newest first; `before` is the cursor a previous page returned. */
  list(limit: number, before?: number): { items: SavedTraceSummary[]; next_cursor: number | null } {
    const rows = (
      before === undefined
        ? this.db.prepare(`SELECT ${SUMMARY_COLUMNS} FROM traces ORDER BY seq DESC LIMIT ?`).all(limit + 1)
        : this.db
            .prepare(`SELECT ${SUMMARY_COLUMNS} FROM traces WHERE seq < ? ORDER BY seq DESC LIMIT ?`)
            .all(before, limit + 1)
    ) as Row[];
    const page = rows.slice(0, limit);
    return { items: page.map(summary), next_cursor: rows.length > limit ? page[page.length - 1].seq : null };
  }

  totals(): { count: number; bytes: number } {
    const r = this.db.prepare('SELECT COUNT(*) AS count, COALESCE(SUM(total_bytes), 0) AS bytes FROM traces').get() as {
      count: number;
      bytes: number;
    };
    return { count: r.count, bytes: r.bytes };
  }

  /** Remove the row (the trace is gone from then on), then its file. */
  async delete(id: string): Promise<boolean> {
    if (!TRACE_ID_PATTERN.test(id)) return false;
    const { changes } = this.db.prepare('DELETE FROM traces WHERE id = ?').run(id);
    if (changes === 0) return false;
    await rm(this.tensorPath(id), { force: true });
    return true;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
