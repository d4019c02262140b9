"""Deterministic random llama-family checkpoints in Hugging Face layout (test fixtures and bench models).

Each preset is one variant the llama graph must get right: Llama-3 rope scaling (rope_scaling.rope_type llama3),
tied SmolLM-style embeddings with a linear rope_scaling under the older `type` key, Qwen2 q/k/v biases (and a
sliding_window the config switches off), Qwen3 per-head q/k RMSNorm with head_dim != hidden_size / heads, Mistral
with a sliding window shorter than the prompts; GQA with 1, 2 and 4 query heads per key/value head; F32, F16 and
BF16 weights; one sharded checkpoint (model-0000x-of-0000y.safetensors + index).
Usage: /usr/bin/python3 tools/checkpoint/make_random_llama.py --preset tiny-llama3 --out DIR [--seed 1234]
       /usr/bin/python3 tools/checkpoint/make_random_llama.py --preset smollm2-135m --out DIR   (bench size)
       /usr/bin/python3 tools/checkpoint/make_random_llama.py --preset qwen2.5-0.5b-lens --out DIR   (bench lens)
"""
import argparse
import json
import os
import struct

import numpy as np

BASE = {"vocab_size": 128, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 64, "rms_norm_eps": 1e-5,
        "rope_theta": 10000.0, "hidden_act": "silu", "tie_word_embeddings": False}

PRESETS = {
    "tiny-llama3": ({**BASE, "model_type": "llama", "architectures": ["LlamaForCausalLM"],
                     "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                      "high_freq_factor": 4.0, "original_max_position_embeddings": 64}},
                    "F32", 1),
    "tiny-smollm": ({**BASE, "model_type": "llama", "architectures": ["LlamaForCausalLM"], "tie_word_embeddings": True,
                     "num_key_value_heads": 4, "rope_scaling": {"type": "linear", "factor": 2.0}}, "F16", 1),
    "tiny-qwen2": ({**BASE, "model_type": "qwen2", "architectures": ["Qwen2ForCausalLM"], "hidden_size": 64,
                    "num_attention_heads": 8, "num_key_value_heads": 2, "tie_word_embeddings": True,
                    "use_sliding_window": False, "sliding_window": 3, "max_window_layers": 0,
                    "rope_theta": 1000000.0}, "F32", 2),
    "tiny-qwen3": ({**BASE, "model_type": "qwen3", "architectures": ["Qwen3ForCausalLM"], "head_dim": 16,
                    "attention_bias": False, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0}, "BF16", 1),
    "tiny-mistral": ({**BASE, "model_type": "mistral", "architectures": ["MistralForCausalLM"],
                      "num_key_value_heads": 1, "sliding_window": 4}, "F32", 1),
    # SmolLM2-135M's shape (random weights): the bench's llama model
    "smollm2-135m": ({"model_type": "llama", "architectures": ["LlamaForCausalLM"], "vocab_size": 49152,
                      "hidden_size": 576, "intermediate_size": 1536, "num_hidden_layers": 30,
                      "num_attention_heads": 9, "num_key_value_heads": 3, "max_position_embeddings": 8192,
                      "rms_norm_eps": 1e-5, "rope_theta": 100000.0, "hidden_act": "silu",
                      "tie_word_embeddings": True}, "BF16", 1),
    # Qwen2.5-0.5B's widths and tied unembedding (d_model 896, vocab 151,936) with 2 of its 24 layers: the bench's
    # 152k-vocabulary logit lens (the lens reads only the final norm and the unembedding)
    "qwen2.5-0.5b-lens": ({"model_type": "qwen2", "architectures": ["Qwen2ForCausalLM"], "vocab_size": 151936,
                           "hidden_size": 896, "intermediate_size": 4864, "num_hidden_layers": 2,
                           "num_attention_heads": 14, "num_key_value_heads": 2, "max_position_embeddings": 32768,
                           "rms_norm_eps": 1e-6, "rope_theta": 1000000.0, "hidden_act": "silu",
                           "tie_word_embeddings": True, "use_sliding_window": False, "sliding_window": 32768,
                           "max_window_layers": 24}, "BF16", 1),
}


def tensors_for(cfg, rng):
    D, I, V = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    H, KV = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    dh = cfg.get("head_dim") or D // H
    big = D >= 256
    s = 0.02 if big else 0.3  # tiny models: large weights, so logits are decisive and greedy has clear margins
    def mat(*shape):
        return (rng.standard_normal(shape) * (s if len(shape) > 1 else 0.3)).astype(np.float32)
    def gain(n):
        return (1.0 + 0.2 * rng.standard_normal(n)).astype(np.float32)
    t = {"model.embed_tokens.weight": (rng.standard_normal((V, D)) * (0.02 if big else 1.0)).astype(np.float32)}
    bias = cfg["model_type"] == "qwen2" or cfg.get("attention_bias", False)
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}"
        t[f"{p}.input_layernorm.weight"] = gain(D)
        t[f"{p}.self_attn.q_proj.weight"] = mat(H * dh, D)
        t[f"{p}.self_attn.k_proj.weight"] = mat(KV * dh, D)
        t[f"{p}.self_attn.v_proj.weight"] = mat(KV * dh, D)
        if bias:
            t[f"{p}.self_attn.q_proj.bias"] = mat(H * dh)
            t[f"{p}.self_attn.k_proj.bias"] = mat(KV * dh)
            t[f"{p}.self_attn.v_proj.bias"] = mat(KV * dh)
        if cfg["model_type"] == "qwen3":
            t[f"{p}.self_attn.q_norm.weight"] = gain(dh)
            t[f"{p}.self_attn.k_norm.weight"] = gain(dh)
        t[f"{p}.self_attn.o_proj.weight"] = mat(D, H * dh)
        t[f"{p}.post_attention_layernorm.weight"] = gain(D)
        t[f"{p}.mlp.gate_proj.weight"] = mat(I, D)
        t[f"{p}.mlp.up_proj.weight"] = mat(I, D)
        t[f"{p}.mlp.down_proj.weight"] = mat(D, I)
    t["model.norm.weight"] = gain(D)
    if not cfg["tie_word_embeddings"]:
        t["lm_head.weight"] = mat(V, D)
    return t


def encode(arr, dtype):
    a = np.ascontiguousarray(arr, dtype="<f4")
    if dtype == "F32":
        return a.tobytes()
    if dtype == "F16":
        return a.astype("<f2").tobytes()
    u = a.view("<u4").astype(np.uint64)  # bfloat16: round to nearest even
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype("<u2").tobytes()


def write_safetensors(path, tensors, dtype):
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name, arr in tensors.items():
        b = encode(arr, dtype)
        header[name] = {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", required=True, choices=sorted(PRESETS))
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1234)
    args = ap.parse_args()
    cfg, dtype, shards = PRESETS[args.preset]
    cfg = {**cfg, "torch_dtype": {"F32": "float32", "F16": "float16", "BF16": "bfloat16"}[dtype]}
    rng = np.random.default_rng(args.seed)
    t = tensors_for(cfg, rng)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    if shards == 1:
        write_safetensors(os.path.join(args.out, "model.safetensors"), t, dtype)
    else:
        names = list(t)
        per = -(-len(names) // shards)
        weight_map = {}
        for s in range(shards):
            file = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
            part = {n: t[n] for n in names[s * per:(s + 1) * per]}
            write_safetensors(os.path.join(args.out, file), part, dtype)
            weight_map.update({n: file for n in part})
        total = sum(len(encode(a, dtype)) for a in t.values())
        with open(os.path.join(args.out, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)
            f.write("\n")
    print(f"{args.preset}: {sum(a.size for a in t.values())} parameters, {dtype}, {shards} file(s) -> {args.out}")


if __name__ == "__main__":
    main()
