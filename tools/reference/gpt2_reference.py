"""Independent reference GPT-2 (numpy, float64) that dumps every TransformerLens hook for test fixtures.

Written from the GPT-2 definition (picoGPT-style pure functions), not from our TypeScript code. It reads a
Hugging Face checkpoint folder (config.json + model.safetensors, parsed here with numpy) and writes a
safetensors file of float32 tensors: every hook (same names as src/hooks/catalogue.ts), logits, the logit
lens of every layer's resid_post, and a greedy continuation.

Usage:
  /usr/bin/python3 tools/reference/gpt2_reference.py MODEL_DIR OUT.safetensors --ids 464,3139,286 [--greedy 8] [--top-k 5]
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


def gelu_new(x):  # GPT-2's tanh approximation
    return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x**3)))


def layer_norm(x, g, b, eps, hooks, prefix):  # [n, d] -> [n, d]
    x = x - x.mean(axis=-1, keepdims=True)
    scale = np.sqrt((x**2).mean(axis=-1, keepdims=True) + eps)  # [n, 1]
    hooks[f"{prefix}.hook_scale"] = scale[:, 0]  # [n]
    out = x / scale * g + b
    hooks[f"{prefix}.hook_normalized"] = out
    return out


def softmax(x):  # rows with -inf entries give exact zeros there
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def block(x, w, i, n_head, eps, hooks):  # [T, d] -> [T, d]
    p, h = f"blocks.{i}", f"h.{i}"
    T, d = x.shape
    dh = d // n_head
    hooks[f"{p}.hook_resid_pre"] = x
    a = layer_norm(x, w[f"{h}.ln_1.weight"], w[f"{h}.ln_1.bias"], eps, hooks, f"{p}.ln1")
    qkv = a @ w[f"{h}.attn.c_attn.weight"] + w[f"{h}.attn.c_attn.bias"]  # [T, 3d]
    q, k, v = (m.reshape(T, n_head, dh) for m in np.split(qkv, 3, axis=-1))  # [T, H, dh]
    hooks[f"{p}.attn.hook_q"], hooks[f"{p}.attn.hook_k"], hooks[f"{p}.attn.hook_v"] = q, k, v
    scores = np.einsum("qhd,khd->hqk", q, k) / np.sqrt(dh)  # [H, T, T]
    future = np.triu(np.ones((T, T), dtype=bool), k=1)
    scores = np.where(future[None], -np.inf, scores)
    hooks[f"{p}.attn.hook_attn_scores"] = scores
    pattern = softmax(scores)
    hooks[f"{p}.attn.hook_pattern"] = pattern
    z = np.einsum("hqk,khd->qhd", pattern, v)  # [T, H, dh]
    hooks[f"{p}.attn.hook_z"] = z
    attn_out = z.reshape(T, d) @ w[f"{h}.attn.c_proj.weight"] + w[f"{h}.attn.c_proj.bias"]
    hooks[f"{p}.hook_attn_out"] = attn_out
    mid = x + attn_out
    hooks[f"{p}.hook_resid_mid"] = mid
    m = layer_norm(mid, w[f"{h}.ln_2.weight"], w[f"{h}.ln_2.bias"], eps, hooks, f"{p}.ln2")
    pre = m @ w[f"{h}.mlp.c_fc.weight"] + w[f"{h}.mlp.c_fc.bias"]  # [T, d_mlp]
    hooks[f"{p}.mlp.hook_pre"] = pre
    post = gelu_new(pre)
    hooks[f"{p}.mlp.hook_post"] = post
    mlp_out = post @ w[f"{h}.mlp.c_proj.weight"] + w[f"{h}.mlp.c_proj.bias"]
    hooks[f"{p}.hook_mlp_out"] = mlp_out
    out = mid + mlp_out
    hooks[f"{p}.hook_resid_post"] = out
    return out


def gpt2(ids, w, cfg):  # [T] -> hooks dict incl. logits [T, V]
    hooks = {}
    eps = cfg.get("layer_norm_epsilon", 1e-5)
    hooks["hook_embed"] = w["wte.weight"][ids]
    hooks["hook_pos_embed"] = w["wpe.weight"][np.arange(len(ids))]
    x = hooks["hook_embed"] + hooks["hook_pos_embed"]
    for i in range(cfg["n_layer"]):
        x = block(x, w, i, cfg["n_head"], eps, hooks)
    x = layer_norm(x, w["ln_f.weight"], w["ln_f.bias"], eps, hooks, "ln_final")
    hooks["logits"] = x @ w["wte.weight"].T
    return hooks


def lens(rows, w, cfg, k, track):  # [n, d] -> top-k ids/probs [n, k], tracked probs [n, m]
    scratch = {}
    x = layer_norm(rows, w["ln_f.weight"], w["ln_f.bias"], cfg.get("layer_norm_epsilon", 1e-5), scratch, "lens")
    probs = softmax(x @ w["wte.weight"].T)
    top = np.argsort(-probs, axis=-1, kind="stable")[:, :k]
    return top, np.take_along_axis(probs, top, axis=-1), probs[:, track]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model_dir")
    ap.add_argument("out")
    ap.add_argument("--ids", required=True)
    ap.add_argument("--greedy", type=int, default=8)
    ap.add_argument("--top-k", type=int, default=5)
    args = ap.parse_args()
    cfg = json.load(open(f"{args.model_dir}/config.json"))
    w = load_safetensors(f"{args.model_dir}/model.safetensors")
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
