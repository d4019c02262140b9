"""Independent reference GPT-2 (numpy, float64) that dumps every TransformerLens hook for test fixtures,
and applies interventions (zero, mean, scale, add, set, clamp, project, patch) at hook points on raw weights.

Written from the GPT-2 definition (picoGPT-style pure functions), not from our TypeScript code. It reads a
Hugging Face checkpoint folder (config.json + model.safetensors, parsed here with numpy) and writes a
safetensors file of float32 tensors: every hook (same names as src/hooks/catalogue.ts), logits, the logit
lens of every layer's resid_post, and a greedy continuation.

Usage:
  /usr/bin/python3 tools/reference/gpt2_reference.py MODEL_DIR OUT.safetensors --ids 464,3139,286 [--greedy 8] [--top-k 5]
  /usr/bin/python3 tools/reference/gpt2_reference.py MODEL_DIR OUT.safetensors --cases CASES.json
    (interventions: every case's hooks, last-position logits and intervened greedy tokens, see run_cases)
"""
import argparse
import json
import struct

import numpy as np

DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64}


def load_safetensors(path):
    """{name: float64 array} from a safetensors file."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    header.pop("__metadata__", None)
    base = 8 + n
    out = {}
    for name, t in header.items():
        begin, end = t["data_offsets"]
        if t["dtype"] == "BF16":
            u16 = np.frombuffer(raw[base + begin : base + end], dtype="<u2").astype(np.uint32) << 16
            arr = u16.view(np.float32)
        else:
            arr = np.frombuffer(raw[base + begin : base + end], dtype=np.dtype(DTYPES[t["dtype"]]).newbyteorder("<"))
        name = name[len("transformer.") :] if name.startswith("transformer.") else name
        out[name] = arr.reshape(t["shape"]).astype(np.float64)
    return out


def save_safetensors(path, tensors, metadata):
    """Write {name: array} as float32 safetensors (header padded to 8 bytes)."""
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name, arr in tensors.items():
        b = np.ascontiguousarray(arr, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


class Hooks(dict):
    """Records every hook; `edit(name, x)` applies the interventions at that hook point and records the result."""

    def __init__(self, interventions=(), n_prompt=0, sources=None):
        super().__init__()
        self.interventions = list(interventions)
        self.n_prompt = n_prompt  # prompt length: explicit positions and "last" refer to it
        self.sources = sources or {}  # patch: index -> clean source hooks

    def edit(self, name, x):
        for k, iv in enumerate(self.interventions):
            if iv["hook"] == name:
                x = apply_intervention(x, iv, self.n_prompt, self.sources.get(k))
        self[name] = x
        return x


def selected_positions(iv, n, n_prompt):
    """Positions of a run over n tokens an intervention touches. "last" = the last prompt token and every token
    after it (each new token of a generation is the last one when it is computed)."""
    spec = iv.get("positions", "all")
    if spec == "all":
        return list(range(n))
    if spec == "last":
        return list(range(n_prompt - 1, n))
    return sorted({p if p >= 0 else n_prompt + p for p in spec})


def apply_intervention(x, iv, n_prompt, source):
    """x: [pos, ...rest] float64 -> the edited copy. Written from the op definitions, entry by entry over a mask."""
    x = x.copy()
    n = x.shape[0]
    rows = [p for p in selected_positions(iv, n, n_prompt) if p < n]
    if iv["op"] == "patch":
        rows = [p for p in rows if p < source.shape[0]]
    mask = np.zeros(x.shape, dtype=bool)
    heads = iv.get("heads")
    index = iv.get("index")
    for p in rows:
        if x.ndim == 3:
            for h in heads if heads is not None else range(x.shape[1]):
                if index is None:
                    mask[p, h, :] = True
                else:
                    mask[p, h, index] = True
        elif index is None:
            mask[p, :] = True
        else:
            mask[p, index] = True
    op = iv["op"]
    if op == "zero":
        x[mask] = 0.0
    elif op == "scale":
        x[mask] *= iv["factor"]
    elif op in ("add", "set"):
        v = np.broadcast_to(np.asarray(iv["vector"], dtype=np.float64), x.shape)
        if op == "add":
            x[mask] += (v * iv.get("scale", 1.0))[mask]
        else:
            x[mask] = v[mask]
    elif op == "clamp":
        lo = iv.get("min", -np.inf)
        hi = iv.get("max", np.inf)
        x[mask] = np.minimum(np.maximum(x[mask], lo), hi)
    elif op == "project":
        u = np.asarray(iv["vector"], dtype=np.float64)
        u = u / np.sqrt((u * u).sum())
        c = iv.get("coeff", 0.0)
        for idx in np.ndindex(*x.shape[:-1]):  # each selected row of the last axis
            if mask[idx].any():
                r = x[idx]
                x[idx] = r - (1.0 - c) * (r @ u) * u
    elif op == "mean":
        m = np.broadcast_to(x.mean(axis=0, keepdims=True), x.shape)  # over the run's positions
        x[mask] = m[mask]
    elif op == "patch":
        m = min(n, source.shape[0])  # positions map one to one; rows past the source are not selected
        src = np.zeros_like(x)
        src[:m] = source[:m]
        x[mask] = src[mask]
    else:
        raise ValueError(f"unknown op {op}")
    return x


def gelu_new(x):  # GPT-2's tanh approximation
    return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x**3)))


def layer_norm(x, g, b, eps, hooks, prefix):  # [n, d] -> [n, d]
    x = x - x.mean(axis=-1, keepdims=True)
    scale = np.sqrt((x**2).mean(axis=-1, keepdims=True) + eps)  # [n, 1]
    hooks[f"{prefix}.hook_scale"] = scale[:, 0]  # [n]
    out = x / scale * g + b
    return hooks.edit(f"{prefix}.hook_normalized", out)


def softmax(x):  # rows with -inf entries give exact zeros there
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def block(x, w, i, n_head, eps, hooks):  # [T, d] -> [T, d]
    p, h = f"blocks.{i}", f"h.{i}"
    T, d = x.shape
    dh = d // n_head
    x = hooks.edit(f"{p}.hook_resid_pre", x)
    a = layer_norm(x, w[f"{h}.ln_1.weight"], w[f"{h}.ln_1.bias"], eps, hooks, f"{p}.ln1")
    qkv = a @ w[f"{h}.attn.c_attn.weight"] + w[f"{h}.attn.c_attn.bias"]  # [T, 3d]
    q, k, v = (m.reshape(T, n_head, dh) for m in np.split(qkv, 3, axis=-1))  # [T, H, dh]
    q = hooks.edit(f"{p}.attn.hook_q", q)
    k = hooks.edit(f"{p}.attn.hook_k", k)
    v = hooks.edit(f"{p}.attn.hook_v", v)
    scores = np.einsum("qhd,khd->hqk", q, k) / np.sqrt(dh)  # [H, T, T]
    future = np.triu(np.ones((T, T), dtype=bool), k=1)
    scores = np.where(future[None], -np.inf, scores)
    hooks[f"{p}.attn.hook_attn_scores"] = scores
    pattern = softmax(scores)
    hooks[f"{p}.attn.hook_pattern"] = pattern
    z = np.einsum("hqk,khd->qhd", pattern, v)  # [T, H, dh]
    z = hooks.edit(f"{p}.attn.hook_z", z)
    w_o = w[f"{h}.attn.c_proj.weight"]  # [H*dh, d]
    # each head's write: z[:, h] @ W_O[h*dh:(h+1)*dh] -> [T, H, d] (no bias)
    hooks[f"{p}.attn.hook_result"] = np.stack([z[:, j] @ w_o[j * dh : (j + 1) * dh] for j in range(n_head)], axis=1)
    attn_out = hooks.edit(f"{p}.hook_attn_out", z.reshape(T, d) @ w_o + w[f"{h}.attn.c_proj.bias"])
    mid = hooks.edit(f"{p}.hook_resid_mid", x + attn_out)
    m = layer_norm(mid, w[f"{h}.ln_2.weight"], w[f"{h}.ln_2.bias"], eps, hooks, f"{p}.ln2")
    pre = m @ w[f"{h}.mlp.c_fc.weight"] + w[f"{h}.mlp.c_fc.bias"]  # [T, d_mlp]
    pre = hooks.edit(f"{p}.mlp.hook_pre", pre)
    post = hooks.edit(f"{p}.mlp.hook_post", gelu_new(pre))
    mlp_out = hooks.edit(f"{p}.hook_mlp_out", post @ w[f"{h}.mlp.c_proj.weight"] + w[f"{h}.mlp.c_proj.bias"])
    return hooks.edit(f"{p}.hook_resid_post", mid + mlp_out)


def gpt2(ids, w, cfg, hooks=None):  # [T] -> hooks dict incl. logits [T, V]
    hooks = Hooks() if hooks is None else hooks
    eps = cfg.get("layer_norm_epsilon", 1e-5)
    embed = hooks.edit("hook_embed", w["wte.weight"][ids])
    pos_embed = hooks.edit("hook_pos_embed", w["wpe.weight"][np.arange(len(ids))])
    x = embed + pos_embed
    for i in range(cfg["n_layer"]):
        x = block(x, w, i, cfg["n_head"], eps, hooks)
    x = layer_norm(x, w["ln_f.weight"], w["ln_f.bias"], eps, hooks, "ln_final")
    hooks["logits"] = x @ w["wte.weight"].T
    return hooks


def lens(rows, w, cfg, k, track):  # [n, d] -> top-k ids/probs [n, k], tracked probs [n, m]
    scratch = Hooks()
    x = layer_norm(rows, w["ln_f.weight"], w["ln_f.bias"], cfg.get("layer_norm_epsilon", 1e-5), scratch, "lens")
    probs = softmax(x @ w["wte.weight"].T)
    top = np.argsort(-probs, axis=-1, kind="stable")[:, :k]
    return top, np.take_along_axis(probs, top, axis=-1), probs[:, track]


def intervened(fwd, ids, interventions, n_prompt):
    """One run of fwd(ids, hooks) with interventions; patch sources run clean first (once each)."""
    sources = {}
    for k, iv in enumerate(interventions):
        if iv["op"] == "patch":
            sources[k] = fwd(np.array(iv["source"]["token_ids"]), Hooks())[iv["hook"]]
    return fwd(np.array(ids), Hooks(interventions, n_prompt, sources))


def run_cases(cases_path, out_path, fwd):
    """Every case of CASES.json: {name, ids, interventions, greedy}. Writes `<name>/<hook>` for every hook,
    `<name>/logits_last` [d_vocab] and, in the metadata, the greedy tokens by full recompute with the
    interventions in force (their margins must exceed 1e-3, so float32 noise cannot flip them)."""
    cases = json.load(open(cases_path))["cases"]
    out, meta = {}, {"generator": "tools/reference/gpt2_reference.py --cases (numpy float64, stored as float32)"}
    greedy_all = {}
    for case in cases:
        name, ids, ivs = case["name"], case["ids"], case["interventions"]
        hooks = intervened(fwd, ids, ivs, len(ids))
        for k, v in hooks.items():
            if k != "logits":
                out[f"{name}/{k}"] = v
        out[f"{name}/logits_last"] = hooks["logits"][-1]
        seq, margins = list(ids), []
        for _ in range(case.get("greedy", 0)):
            last = intervened(fwd, seq, ivs, len(ids))["logits"][-1]
            order = np.argsort(-last, kind="stable")
            margins.append(float(last[order[0]] - last[order[1]]))
            seq.append(int(order[0]))
        if margins and min(margins) < 1e-3:
            raise SystemExit(f"case {name}: greedy margin {min(margins):.3g} is too small to test; change the case")
        greedy_all[name] = seq[len(ids) :]
    meta["greedy_ids"] = json.dumps(greedy_all)
    save_safetensors(out_path, out, meta)
    print(f"wrote {out_path}: {len(cases)} cases, {len(out)} tensors")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model_dir")
    ap.add_argument("out")
    ap.add_argument("--ids")
    ap.add_argument("--cases")
    ap.add_argument("--greedy", type=int, default=8)
    ap.add_argument("--top-k", type=int, default=5)
    args = ap.parse_args()
    cfg = json.load(open(f"{args.model_dir}/config.json"))
    w = load_safetensors(f"{args.model_dir}/model.safetensors")
    if args.cases:
        return run_cases(args.cases, args.out, lambda ids, hooks: gpt2(ids, w, cfg, hooks))
    ids = [int(t) for t in args.ids.split(",")]

    hooks = gpt2(np.array(ids), w, cfg)
    # greedy continuation by full recompute (no cache: independent of the cached path under test)
    seq, margins = list(ids), []
    for _ in range(args.greedy):
        last = gpt2(np.array(seq), w, cfg)["logits"][-1]
        order = np.argsort(-last, kind="stable")
        margins.append(float(last[order[0]] - last[order[1]]))
        seq.append(int(order[0]))
    greedy = seq[len(ids) :]

    T, L = len(ids), cfg["n_layer"]
    rows = np.concatenate([hooks[f"blocks.{i}.hook_resid_post"] for i in range(L)])  # [L*T, d], layer-major
    track = [greedy[0]]
    top_ids, top_probs, tracked = lens(rows, w, cfg, args.top_k, track)

    out = {k: v for k, v in hooks.items()}
    out["lens.rows"] = rows
    out["lens.top_ids"] = top_ids.astype(np.float64)
    out["lens.top_probs"] = top_probs
    out["lens.tracked"] = tracked
    meta = {
        "generator": "tools/reference/gpt2_reference.py (numpy float64, stored as float32)",
        "model": args.model_dir,
        "ids": json.dumps(ids),
        "greedy_ids": json.dumps(greedy),
        "greedy_margins": json.dumps(margins),
        "lens_track_ids": json.dumps(track),
        "lens_top_k": str(args.top_k),
    }
    save_safetensors(args.out, out, meta)
    print(f"wrote {args.out}: {len(out)} tensors, greedy {greedy}, min margin {min(margins):.4g}")


if __name__ == "__main__":
    main()
