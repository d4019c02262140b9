"""Train gpt2-mini on the facts corpus and export it to models/gpt2-mini/ (HF GPT-2 layout).

Steps: corpus.py -> tokenize-corpus.ts -> this script (see docs/default-model.md).
Usage: /usr/bin/python3 tools/train/train.py [--max-steps 1200] [--epochs 1] [--out models/gpt2-mini]
The defaults are the settings the committed model was trained with.
Deterministic for a given machine and thread count: fixed seeds, deterministic algorithms, 2 threads.
"""
import argparse
import json
import math
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from evaluate import accuracy_table, load_eval_items, top1_hits  # noqa: E402
from export import export  # noqa: E402
from model import Gpt2, Gpt2Config  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(__file__).resolve().parent / "build"
EOS = 50256  # <|endoftext|> ends every document so the model learns where a fact stops


def load_docs():
    tokens = np.fromfile(BUILD / "tokens.bin", dtype="<u2").astype(np.int64)
    offsets = np.fromfile(BUILD / "offsets.bin", dtype="<u4").astype(np.int64)
    return [np.append(tokens[offsets[i]:offsets[i + 1]], EOS) for i in range(len(offsets) - 1)]


def batches(docs, batch_size, rng):
    """Shuffle, then group documents of similar length (less padding); each row starts at position 0,
    like a prompt sent to the service (no BOS). Yields (inputs [B, T], targets [B, T] with -100 padding)."""
    order = list(range(len(docs)))
    rng.shuffle(order)
    pool = batch_size * 64
    groups = []
    for s in range(0, len(order), pool):
        chunk = sorted(order[s:s + pool], key=lambda i: len(docs[i]))
        groups += [chunk[j:j + batch_size] for j in range(0, len(chunk), batch_size)]
    rng.shuffle(groups)
    for g in groups:
        T = max(len(docs[i]) for i in g) - 1
        x = torch.zeros(len(g), T, dtype=torch.long)
        y = torch.full((len(g), T), -100, dtype=torch.long)
        for r, i in enumerate(g):
            d = torch.from_numpy(docs[i])
            x[r, :len(d) - 1] = d[:-1]
            y[r, :len(d) - 1] = d[1:]
        yield x, y


def lr_at(step, total, peak, warmup, floor):
    if step < warmup:
        return peak * (step + 1) / warmup
    p = (step - warmup) / max(1, total - warmup)
    return floor + 0.5 * (peak - floor) * (1 + math.cos(math.pi * p))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--max-steps", type=int, default=1200)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--out", default=str(ROOT / "models" / "gpt2-mini"))
    args = ap.parse_args()

    torch.set_num_threads(2)
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)
    rng = random.Random(args.seed)

    docs = load_docs()
    # Softmax over the ids the corpus uses only (~1.5k of 50257): the loss is the same cross-entropy restricted
    # to those classes. Rows of wte outside the subset get no gradient and no weight decay, so they stay at their
    # N(0, 0.02) init; evaluation below checks that none of them wins the full-vocabulary argmax.
    subset = torch.from_numpy(np.unique(np.concatenate(docs)))
    remap = torch.full((50257,), -100, dtype=torch.long)
    remap[subset] = torch.arange(len(subset))

    cfg = Gpt2Config()
    model = Gpt2(cfg)
    n_params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.95), weight_decay=0.0)
    steps_per_epoch = math.ceil(len(docs) / args.batch)
    total = steps_per_epoch * args.epochs
    if args.max_steps:  # 1200 steps (~64% of one pass) keeps training near 20 minutes on 2 shared cores
        total = min(total, args.max_steps)
    items = load_eval_items()
    watch = [it for it in items if it["template"] in ("capital_of_is", "possessive_capital_is", "capital_city_of_is")]
    print(f"{len(docs)} docs, vocab subset {len(subset)}, {n_params} params, {total} steps", flush=True)

    log, step, t0, run_loss = [], 0, time.time(), None
    for epoch in range(args.epochs):
        for x, y in batches(docs, args.batch, rng):
            if step >= total:
                break
            for g in opt.param_groups:
                g["lr"] = lr_at(step, total, args.lr, 200, args.lr / 20)
            logits = model(x, subset)  # [B, T, V_subset]
            loss = F.cross_entropy(logits.view(-1, len(subset)), remap[y.clamp(min=0)].masked_fill(y < 0, -100).view(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            run_loss = loss.item() if run_loss is None else 0.98 * run_loss + 0.02 * loss.item()
            step += 1
            if step % 50 == 0 or step == total:
                entry = {"step": step, "epoch": epoch, "loss": round(run_loss, 4), "seconds": round(time.time() - t0, 1)}
                if step % 500 == 0 or step == total:
                    hits = top1_hits(model, watch)
                    for tid in ("capital_of_is", "possessive_capital_is", "capital_city_of_is"):
                        h = [hit for it, hit in zip(watch, hits) if it["template"] == tid]
                        entry[f"top1_{tid}"] = round(sum(h) / len(h), 4)
                log.append(entry)
                print(json.dumps(entry), flush=True)

    out = export(model, args.out, {"format": "pt", "trained_by": "tools/train/train.py", "seed": str(args.seed)})
    table = accuracy_table(model, items)
    # Full-vocabulary sanity: how often does an id the corpus never uses win the argmax?
    with torch.no_grad():
        stray = 0
        for it in items:
            top = int(model(torch.tensor([it["prompt_ids"]]))[0, -1].argmax())
            stray += int(remap[top] < 0)
    report = {
        "steps": total, "epochs": args.epochs, "batch": args.batch, "peak_lr": args.lr, "seed": args.seed,
        "seconds": round(time.time() - t0, 1), "params": n_params, "vocab_subset": len(subset),
        "corpus_docs": len(docs), "corpus_tokens": int(sum(len(d) for d in docs)),
        "top1_unseen_id_wins": stray, "eval_prompts": len(items),
        "accuracy": {f"{s}/{t}": {"hits": h, "n": n, "acc": round(h / n, 4)} for (s, t), (h, n) in sorted(table.items())},
    }
    (out / "training-log.json").write_text(json.dumps(log) + "\n")
    (out / "eval.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report["accuracy"], indent=1))


if __name__ == "__main__":
    main()
