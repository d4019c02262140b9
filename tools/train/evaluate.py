"""Full-vocabulary evaluation: is the answer's first token the model's top-1 next token after the prompt?"""
import json
from collections import defaultdict
from pathlib import Path

import torch

BUILD = Path(__file__).resolve().parent / "build"


def load_eval_items(path=BUILD / "eval-tokens.jsonl"):
    return [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]


@torch.no_grad()
def top1_hits(model, items, batch=256):
    """For each item: top-1 over all 50257 ids at the last prompt position == first answer token.
    Prompts are right-padded; causal attention means padding never changes earlier positions."""
    model.eval()
    hits = []
    for i in range(0, len(items), batch):
        chunk = items[i:i + batch]
        T = max(len(it["prompt_ids"]) for it in chunk)
        ids = torch.zeros(len(chunk), T, dtype=torch.long)
        for r, it in enumerate(chunk):
            ids[r, :len(it["prompt_ids"])] = torch.tensor(it["prompt_ids"])
        last = torch.tensor([len(it["prompt_ids"]) - 1 for it in chunk])
        logits = model(ids)[torch.arange(len(chunk)), last]  # [B, 50257] full vocabulary
        top = logits.argmax(dim=-1)
        hits += [int(top[r]) == it["answer_ids"][0] for r, it in enumerate(chunk)]
    model.train()
    return hits


def accuracy_table(model, items):
    """{(split, template): (hits, n)} plus per-split totals under template '*'."""
    table = defaultdict(lambda: [0, 0])
    for it, hit in zip(items, top1_hits(model, items)):
        for key in ((it["split"], it["template"]), (it["split"], "*")):
            table[key][0] += int(hit)
            table[key][1] += 1
    return {k: tuple(v) for k, v in table.items()}
