"""Independent reference for the llama family (llama, qwen2, qwen3, mistral) in numpy float64, dumping every hook.

Written from the Hugging Face modelling code (modeling_llama / qwen2 / qwen3 / mistral: LlamaRMSNorm,
rotate_half + apply_rotary_pos_emb, repeat_kv, eager attention with the causal / sliding-window mask, the gated
MLP, _compute_llama3_parameters) and TransformerLens' hook conventions (RMSNorm hook_scale / hook_normalized
before the weight; grouped hook_k / hook_v; hook_rot_q / hook_rot_k after RoPE), not from our TypeScript code.
Reads a HF folder (config.json + model.safetensors or a sharded index) and writes a safetensors file of float32
tensors: every hook (names as LLAMA_HOOK_SITES in src/hooks/catalogue.ts), logits, the logit lens of every
layer's resid_post, and a greedy continuation computed by full recompute (no cache).

Usage:
  /usr/bin/python3 tools/reference/llama_reference.py MODEL_DIR OUT.safetensors --ids 1,2,3 [--greedy 8] [--top-k 5]
"""
import argparse
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gpt2_reference import Hooks, load_safetensors, run_cases, save_safetensors, softmax  # noqa: E402


def load_weights(model_dir):
    single = os.path.join(model_dir, "model.safetensors")
    if os.path.exists(single):
        return load_safetensors(single)
    index = json.load(open(os.path.join(model_dir, "model.safetensors.index.json")))
    w = {}
    for shard in sorted(set(index["weight_map"].values())):
        w.update(load_safetensors(os.path.join(model_dir, shard)))
    return w


def inv_freq(cfg, d_head):
    """HF ROPE_INIT_FUNCTIONS: default, linear, llama3 (rope_scaling.rope_type, or .type in older configs)."""
    base = cfg.get("rope_theta", 10000.0)
    inv = 1.0 / (base ** (np.arange(0, d_head, 2, dtype=np.float64) / d_head))
    rs = cfg.get("rope_scaling") or {}
    kind = rs.get("rope_type", rs.get("type", "default"))
    if kind == "default":
        return inv
    if kind == "linear":
        return inv / rs["factor"]
    assert kind == "llama3", kind
    factor, low, high = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
    old = rs["original_max_position_embeddings"]
    low_wavelen, high_wavelen = old / low, old / high
    wavelen = 2 * math.pi / inv
    out = np.where(wavelen > low_wavelen, inv / factor, inv)
    smooth = (old / wavelen - low) / (high - low)
    smoothed = (1 - smooth) * out / factor + smooth * out
    medium = ~(wavelen < high_wavelen) & ~(wavelen > low_wavelen)
    return np.where(medium, smoothed, out)


def rotate_half(x):
    h = x.shape[-1] // 2
    return np.concatenate([-x[..., h:], x[..., :h]], axis=-1)


def rms_norm(x, w, eps, hooks=None, prefix=None):
    """TransformerLens RMSNorm: scale = sqrt(mean(x^2) + eps); normalized = x / scale; out = normalized * w."""
    scale = np.sqrt((x**2).mean(axis=-1, keepdims=True) + eps)
    normalized = x / scale
    if hooks is not None:
        hooks[f"{prefix}.hook_scale"] = scale[..., 0]
        normalized = hooks.edit(f"{prefix}.hook_normalized", normalized)
    return normalized * w


def layer_windows(cfg, n):
    """Per layer: sliding window or None. Mistral: sliding_window on every layer. Qwen2/Qwen3: only when
    use_sliding_window, for layers >= max_window_layers (or as layer_types says)."""
    mt = cfg["model_type"]
    win = cfg.get("sliding_window")
    if mt in ("qwen2", "qwen3"):
        if not cfg.get("use_sliding_window", False):
            win = None
        types = cfg.get("layer_types") or [
            "sliding_attention" if win is not None and i >= cfg.get("max_window_layers", n) else "full_attention"
            for i in range(n)
        ]
    elif mt == "mistral":
        types = ["sliding_attention" if win is not None else "full_attention"] * n
    else:
        types = ["full_attention"] * n
    return [win if t == "sliding_attention" else None for t in types]


def forward(ids, w, cfg, hooks=None):
    hooks = Hooks() if hooks is None else hooks
    n_layer = cfg["num_hidden_layers"]
    H = cfg["num_attention_heads"]
    KV = cfg.get("num_key_value_heads") or H
    D = cfg["hidden_size"]
    dh = cfg.get("head_dim") or D // H
    eps = cfg.get("rms_norm_eps", 1e-6)
    mt = cfg["model_type"]
    qkv_bias = mt == "qwen2" or cfg.get("attention_bias", False)
    o_bias = mt != "qwen2" and cfg.get("attention_bias", False)
    T = len(ids)
    pos = np.arange(T, dtype=np.float64)
    freqs = np.outer(pos, inv_freq(cfg, dh))  # [T, dh/2]
    emb = np.concatenate([freqs, freqs], axis=-1)  # [T, dh]
    cos, sin = np.cos(emb)[:, None, :], np.sin(emb)[:, None, :]  # [T, 1, dh]
    windows = layer_windows(cfg, n_layer)
    i_idx, j_idx = np.arange(T)[:, None], np.arange(T)[None, :]

    def lin(x, name, bias):
        y = x @ w[f"{name}.weight"].T
        return y + w[f"{name}.bias"] if bias else y

    x = hooks.edit("hook_embed", w["model.embed_tokens.weight"][ids])
    for i in range(n_layer):
        p, m = f"blocks.{i}", f"model.layers.{i}"
        x = hooks.edit(f"{p}.hook_resid_pre", x)
        a = rms_norm(x, w[f"{m}.input_layernorm.weight"], eps, hooks, f"{p}.ln1")
        q = lin(a, f"{m}.self_attn.q_proj", qkv_bias).reshape(T, H, dh)
        k = lin(a, f"{m}.self_attn.k_proj", qkv_bias).reshape(T, KV, dh)
        v = lin(a, f"{m}.self_attn.v_proj", qkv_bias).reshape(T, KV, dh)
        q = hooks.edit(f"{p}.attn.hook_q", q)
        k = hooks.edit(f"{p}.attn.hook_k", k)
        v = hooks.edit(f"{p}.attn.hook_v", v)
        if mt == "qwen3":
            q = rms_norm(q, w[f"{m}.self_attn.q_norm.weight"], eps)
            k = rms_norm(k, w[f"{m}.self_attn.k_norm.weight"], eps)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        q = hooks.edit(f"{p}.attn.hook_rot_q", q)
        k = hooks.edit(f"{p}.attn.hook_rot_k", k)
        rep = H // KV
        k_full = np.repeat(k, rep, axis=1)  # repeat_kv: head h reads kv head h // rep
        v_full = np.repeat(v, rep, axis=1)
        scores = np.einsum("qhd,khd->hqk", q, k_full) / math.sqrt(dh)
        masked = j_idx > i_idx
        if windows[i] is not None:
            masked = masked | (i_idx - j_idx >= windows[i])
        scores = np.where(masked[None], -np.inf, scores)
        hooks[f"{p}.attn.hook_attn_scores"] = scores
        pattern = softmax(scores)
        hooks[f"{p}.attn.hook_pattern"] = pattern
        z = np.einsum("hqk,khd->qhd", pattern, v_full)  # [T, H, dh]
        z = hooks.edit(f"{p}.attn.hook_z", z)
        attn_out = lin(z.reshape(T, H * dh), f"{m}.self_attn.o_proj", o_bias)
        attn_out = hooks.edit(f"{p}.hook_attn_out", attn_out)
        mid = hooks.edit(f"{p}.hook_resid_mid", x + attn_out)
        b = rms_norm(mid, w[f"{m}.post_attention_layernorm.weight"], eps, hooks, f"{p}.ln2")
        mlp_bias = cfg.get("mlp_bias", False)
        gate = lin(b, f"{m}.mlp.gate_proj", mlp_bias)
        up = lin(b, f"{m}.mlp.up_proj", mlp_bias)
        gate = hooks.edit(f"{p}.mlp.hook_pre", gate)
        up = hooks.edit(f"{p}.mlp.hook_pre_linear", up)
        post = gate / (1.0 + np.exp(-gate)) * up  # silu(gate) * up
        post = hooks.edit(f"{p}.mlp.hook_post", post)
        mlp_out = hooks.edit(f"{p}.hook_mlp_out", lin(post, f"{m}.mlp.down_proj", mlp_bias))
        x = hooks.edit(f"{p}.hook_resid_post", mid + mlp_out)
    xf = rms_norm(x, w["model.norm.weight"], eps, hooks, "ln_final")
    hooks["logits"] = xf @ unembed(w, cfg).T
    return hooks


def unembed(w, cfg):
    return w["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings", False) else w["lm_head.weight"]


def lens(rows, w, cfg, k, track):
    x = rms_norm(rows, w["model.norm.weight"], cfg.get("rms_norm_eps", 1e-6))
    probs = softmax(x @ unembed(w, cfg).T)
    top = np.argsort(-probs, axis=-1, kind="stable")[:, :k]
    return top, np.take_along_axis(probs, top, axis=-1), probs[:, track]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model_dir")
    ap.add_argument("out")
    ap.add_argument("--ids")
    ap.add_argument("--cases", help="interventions: CASES.json (see gpt2_reference.run_cases)")
    ap.add_argument("--greedy", type=int, default=8)
    ap.add_argument("--top-k", type=int, default=5)
    args = ap.parse_args()
    cfg = json.load(open(os.path.join(args.model_dir, "config.json")))
    w = load_weights(args.model_dir)
    if args.cases:
        return run_cases(args.cases, args.out, lambda ids, hooks: forward(ids, w, cfg, hooks))
    ids = [int(t) for t in args.ids.split(",")]
    hooks = forward(np.array(ids), w, cfg)
    seq, margins = list(ids), []
    for _ in range(args.greedy):
        last = forward(np.array(seq), w, cfg)["logits"][-1]
        order = np.argsort(-last, kind="stable")
        margins.append(float(last[order[0]] - last[order[1]]))
        seq.append(int(order[0]))
    greedy = seq[len(ids):]
    L = cfg["num_hidden_layers"]
    rows = np.concatenate([hooks[f"blocks.{i}.hook_resid_post"] for i in range(L)])
    track = [greedy[0]]
    top_ids, top_probs, tracked = lens(rows, w, cfg, args.top_k, track)
    out = dict(hooks)
    out["lens.rows"] = rows
    out["lens.top_ids"] = top_ids.astype(np.float64)
    out["lens.top_probs"] = top_probs
    out["lens.tracked"] = tracked
    meta = {
        "generator": "tools/reference/llama_reference.py (numpy float64, stored as float32)",
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
