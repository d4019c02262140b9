// Tokenize the generated corpus and eval prompts with llama-mini's tokenizer.json (the service's tokenizer.json
// library, so training ids are exactly the ids the service produces) for tools/train/train_llama.py.
// Usage: npx tsx tools/train/tokenize-corpus-llama.ts   (reads tools/train/build/, writes tools/train/build/llama/)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tokenizer } from '@huggingface/tokenizers';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const BUILD = path.join(HERE, 'build');
const OUT = path.join(BUILD, 'llama');
const MODEL = path.join(HERE, '..', '..', 'models', 'llama-mini');
mkdirSync(OUT, { recursive: true });

const tokenizer = new Tokenizer(
  JSON.parse(readFileSync(path.join(MODEL, 'tokenizer.json'), 'utf8')),
  JSON.parse(readFileSync(path.join(MODEL, 'tokenizer_config.json'), 'utf8')),
);
// Documents and prompts get the tokenizer's own special tokens (<|begin_of_text|> first), as the service sends them.
const encode = (text: string, special = true): number[] => tokenizer.encode(text, { add_special_tokens: special }).ids;

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
writeFileSync(path.join(OUT, 'tokens.bin'), Buffer.from(tokens.buffer));
writeFileSync(path.join(OUT, 'offsets.bin'), Buffer.from(offsets.buffer));

// eval.jsonl -> eval-tokens.jsonl: the same items plus prompt_ids (with BOS) and answer_ids (no special tokens).
const items = readFileSync(path.join(BUILD, 'eval.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.length > 0)
  .map((l) => JSON.parse(l) as { prompt: string; answer: string });
const out = items.map((it) =>
  JSON.stringify({ ...it, prompt_ids: encode(it.prompt), answer_ids: encode(it.answer, false) }),
);
writeFileSync(path.join(OUT, 'eval-tokens.jsonl'), `${out.join('\n')}\n`);

const longest = Math.max(...encoded.map((ids) => ids.length));
process.stderr.write(`${docs.length} documents, ${total} tokens (longest ${longest}), ${items.length} eval prompts\n`);
process.stderr.write(
  `example: ${JSON.stringify(tokenizer.tokenize('The capital of France is Paris.'))} ${JSON.stringify(encode('The capital of France is'))}\n`,
);
