"""Train llama-mini on the facts corpus and export it to models/llama-mini/ (HF LlamaForCausalLM layout).

Steps: corpus.py -> bpe.py -> tokenize-corpus-llama.ts -> this script (see docs/default-model.md).
Usage: /usr/bin/python3 tools/train/train_llama.py [--max-steps 1000] [--out models/llama-mini]
The defaults are the settings the committed model was trained with. Deterministic for a given machine and thread
count: fixed seeds, deterministic algorithms, 2 threads. Every document starts with <|begin_of_text|> and ends
with <|end_of_text|>, as the service tokenizes prompts.
"""
import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
import evaluate  # noqa: E402
from export import write_safetensors, read_safetensors  # noqa: E402
from model_llama import Llama, LlamaConfig, hf_config  # noqa: E402
from train import batches, lr_at  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(__file__).resolve().parent / "build" / "llama"


def load_docs(eos):
    tokens = np.fromfile(BUILD / "tokens.bin", dtype="<u2").astype(np.int64)
    offsets = np.fromfile(BUILD / "offsets.bin", dtype="<u4").astype(np.int64)
    return [np.append(tokens[offsets[i]:offsets[i + 1]], eos) for i in range(len(offsets) - 1)]


def export(model, out_dir, metadata):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}
    write_safetensors(out / "model.safetensors", tensors, metadata)
    (out / "config.json").write_text(json.dumps(hf_config(model.cfg), indent=2) + "\n")
    back = read_safetensors(out / "model.safetensors")
    assert all(np.array_equal(back[k], tensors[k]) for k in tensors), "safetensors round trip failed"
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-steps", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--out", default=str(ROOT / "models" / "llama-mini"))
    args = ap.parse_args()

    torch.set_num_threads(2)
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)
    rng = random.Random(args.seed)

    cfg = LlamaConfig()
    docs = load_docs(cfg.eos_token_id)
    model = Llama(cfg)
    n_params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.95), weight_decay=0.0)
    total = args.max_steps
    items = evaluate.load_eval_items(BUILD / "eval-tokens.jsonl")
    watch = [it for it in items if it["template"] in ("capital_of_is", "possessive_capital_is", "capital_city_of_is")]
    print(f"{len(docs)} docs, {n_params} params, {total} steps", flush=True)

    log, step, t0, run_loss = [], 0, time.time(), None
    epoch = 0
    while step < total:
        for x, y in batches(docs, args.batch, rng):
            if step >= total:
                break
            for g in opt.param_groups:
                g["lr"] = lr_at(step, total, args.lr, 100, args.lr / 20)
            logits = model(x)  # [B, T, V]
            loss = F.cross_entropy(logits.view(-1, cfg.vocab_size), y.view(-1), ignore_index=-100)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            run_loss = loss.item() if run_loss is None else 0.98 * run_loss + 0.02 * loss.item()
            step += 1
            if step % 50 == 0 or step == total:
                entry = {"step": step, "epoch": epoch, "loss": round(run_loss, 4), "seconds": round(time.time() - t0, 1)}
                if step % 250 == 0 or step == total:
                    hits = evaluate.top1_hits(model, watch)
                    for tid in ("capital_of_is", "possessive_capital_is", "capital_city_of_is"):
                        h = [hit for it, hit in zip(watch, hits) if it["template"] == tid]
                        entry[f"top1_{tid}"] = round(sum(h) / len(h), 4)
                log.append(entry)
                print(json.dumps(entry), flush=True)
        epoch += 1

    out = export(model, args.out, {"format": "pt", "trained_by": "tools/train/train_llama.py", "seed": str(args.seed)})
    table = evaluate.accuracy_table(model, items)
    report = {
        "steps": total, "batch": args.batch, "peak_lr": args.lr, "seed": args.seed,
        "seconds": round(time.time() - t0, 1), "params": n_params,
        "corpus_docs": len(docs), "corpus_tokens": int(sum(len(d) for d in docs)), "eval_prompts": len(items),
        "accuracy": {f"{s}/{t}": {"hits": h, "n": n, "acc": round(h / n, 4)} for (s, t), (h, n) in sorted(table.items())},
    }
    (out / "training-log.json").write_text(json.dumps(log) + "\n")
    (out / "eval.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report["accuracy"], indent=1))


if __name__ == "__main__":
    main()
