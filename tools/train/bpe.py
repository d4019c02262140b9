"""Train a small byte-level BPE on the facts corpus and write it as a Hugging Face tokenizer.json (llama-mini).

The file has the layout of GPT-2/Llama-3 byte-level tokenizers: a ByteLevel pre-tokenizer (GPT-2 split regex, no
prefix space), a BPE model (256 byte symbols + merges), a ByteLevel decoder, and a TemplateProcessing post-processor
that prepends <|begin_of_text|> as Llama 3 does. The service loads it with its tokenizer.json library; this script
only picks the merges (the training ids come from that library, tools/train/tokenize-corpus.ts --llama).
Usage: /usr/bin/python3 tools/train/bpe.py [--vocab 2048] [--out models/llama-mini/tokenizer.json]
"""
import argparse
import collections
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parents[1]
BUILD = Path(__file__).resolve().parent / "build"
BOS, EOS = "<|begin_of_text|>", "<|end_of_text|>"

# GPT-2's split pattern with \p{L} written as [^\W\d_] and \p{N} as \d (Python's re has no \p classes). It only
# decides which merges are counted; the service's tokenizer applies the exact pattern.
SPLIT = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?[^\s\w]+|\s+(?!\S)|\s+""")


def bytes_to_unicode():
    """GPT-2's reversible byte -> printable character map (the ByteLevel alphabet)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def train(words, n_merges):
    """words: {tuple of symbols: count}. Greedy BPE: merge the most frequent adjacent pair (ties: first seen)."""
    merges = []
    words = dict(words)
    for _ in range(n_merges):
        pairs = collections.Counter()
        for w, c in words.items():
            for a, b in zip(w, w[1:]):
                pairs[(a, b)] += c
        if not pairs:
            break
        (a, b), count = max(pairs.items(), key=lambda kv: (kv[1], kv[0][0] + kv[0][1]))
        if count < 2:
            break
        merges.append((a, b))
        merged = {}
        for w, c in words.items():
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and w[i] == a and w[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            merged[tuple(out)] = merged.get(tuple(out), 0) + c
        words = merged
    return merges


def tokenizer_json(merges):
    alphabet = bytes_to_unicode()
    vocab = {}
    for b in range(256):
        vocab[alphabet[b]] = len(vocab)
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    specials = []
    for tok in (BOS, EOS):
        specials.append({"id": len(vocab), "content": tok, "single_word": False, "lstrip": False, "rstrip": False,
                         "normalized": False, "special": True})
        vocab[tok] = len(vocab)
    bos_id = vocab[BOS]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": specials,
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": BOS, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": BOS, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": BOS, "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {BOS: {"id": BOS, "ids": [bos_id], "tokens": [BOS]}},
        },
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": [f"{a} {b}" for a, b in merges]},
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vocab", type=int, default=2048, help="total size: 256 bytes + merges + 2 special tokens")
    ap.add_argument("--out", default=str(ROOT / "models" / "llama-mini" / "tokenizer.json"))
    args = ap.parse_args()
    alphabet = bytes_to_unicode()
    counts = collections.Counter()
    texts = (BUILD / "corpus.txt").read_text(encoding="utf-8").splitlines()
    # The evaluation prompts and answers too (held-out wordings included), so every country word has merges.
    for line in (BUILD / "eval.jsonl").read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        texts.append(item["prompt"] + item["answer"])
    for text in texts:
        for piece in SPLIT.findall(text):
            counts[tuple(alphabet[b] for b in piece.encode("utf-8"))] += 1
    merges = train(counts, args.vocab - 256 - 2)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tok = tokenizer_json(merges)
    out.write_text(json.dumps(tok, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    (out.parent / "tokenizer_config.json").write_text(json.dumps({
        "bos_token": BOS, "eos_token": EOS, "add_bos_token": True, "model_max_length": 256,
        "tokenizer_class": "PreTrainedTokenizerFast"}, indent=2) + "\n")
    print(f"{len(tok['model']['vocab'])} tokens ({len(merges)} merges) -> {out}")


if __name__ == "__main__":
    main()
