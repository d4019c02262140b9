// Tokenize the generated corpus and eval prompts with r50k_base (the service's GPT-2 ids) for the Python trainer.
// Usage: npx tsx tools/train/tokenize-corpus.ts   (reads and writes tools/train/build/)
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { encode } from 'gpt-tokenizer/encoding/r50k_base';

const BUILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'build');

// corpus.txt (one document per line) -> tokens.bin (uint16 ids, all documents back to back)
// + offsets.bin (uint32, n_docs + 1 start offsets), so Python can slice document i as tokens[off[i]:off[i+1]].
const docs = readFileSync(path.join(BUILD, 'corpus.txt'), 'utf8')
  .split('\n')
  .filter((d) => d.length > 0);
const encoded = docs.map((d) => encode(d));
const total = encoded.reduce((n, ids) => n + ids.length, 0);
const tokens = new Uint16Array(total);
const offsets = new Uint32Array(docs.length + 1);
let at = 0;
encoded.forEach((ids, i) => {
  offsets[i] = at;
  tokens.set(ids, at);
  at += ids.length;
});
offsets[docs.length] = at;
writeFileSync(path.join(BUILD, 'tokens.bin'), Buffer.from(tokens.buffer));
writeFileSync(path.join(BUILD, 'offsets.bin'), Buffer.from(offsets.buffer));

// eval.jsonl -> eval-tokens.jsonl: the same items plus prompt_ids and answer_ids (answer starts with a space).
const items = readFileSync(path.join(BUILD, 'eval.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.length > 0)
  .map((l) => JSON.parse(l) as { prompt: string; answer: string });
const out = items.map((it) => JSON.stringify({ ...it, prompt_ids: encode(it.prompt), answer_ids: encode(it.answer) }));
writeFileSync(path.join(BUILD, 'eval-tokens.jsonl'), `${out.join('\n')}\n`);

const longest = Math.max(...encoded.map((ids) => ids.length));
process.stderr.write(`${docs.length} documents, ${total} tokens (longest ${longest}), ${items.length} eval prompts\n`);
