"""Independent reference for src/arch/params.ts: builds each family's module tree the way the Hugging Face
modeling code does (torch.nn on the meta device: no memory, no weights) and counts module.parameters().

Run: /usr/bin/python3 test/arch/reference/count_params.py > test/arch/fixtures/reference-params.json
Inputs: every entry of models/registry/*.json ({**library_defaults, **config}) plus the tiny configs in
test/arch/fixtures/tiny-configs.json. Tied embeddings share one Parameter, so parameters() counts them once.
"""
import glob
import json
import os
import sys

import torch
from torch import nn

torch.set_num_threads(2)
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
META = torch.device("meta")


def lin(i, o, bias):
    return nn.Linear(i, o, bias=bias, device=META)


class RMS(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(d, device=META))


def ln(d):
    return nn.LayerNorm(d, device=META)


class Gated(nn.Module):
    def __init__(self, d, f, bias=False):
        super().__init__()
        self.gate_proj, self.up_proj, self.down_proj = lin(d, f, bias), lin(d, f, bias), lin(f, d, bias)


def g(c, k, default=None):
    v = c.get(k)
    return default if v is None else v


def gpt2_like(c, gpt1):
    d, L = c["n_embd"], c["n_layer"]
    f = g(c, "n_inner", 4 * d)
    m = nn.Module()
    m.wte = nn.Embedding(c["vocab_size"], d, device=META)
    m.wpe = nn.Embedding(g(c, "n_positions", c.get("n_ctx")), d, device=META)
    m.h = nn.ModuleList()
    for _ in range(L):
        b = nn.Module()
        b.ln_1, b.ln_2 = ln(d), ln(d)
        b.c_attn, b.c_proj = lin(d, 3 * d, True), lin(d, d, True)
        b.c_fc, b.mlp_proj = lin(d, f, True), lin(f, d, True)
        m.h.append(b)
    if not gpt1:
        m.ln_f = ln(d)
    if not g(c, "tie_word_embeddings", True):
        m.lm_head = lin(d, c["vocab_size"], False)
    return m


def attn(c, d, H, KV, hd, qkv_bias, o_bias, qk_norm=False, sinks=False):
    a = nn.Module()
    a.q_proj, a.k_proj, a.v_proj = lin(d, H * hd, qkv_bias), lin(d, KV * hd, qkv_bias), lin(d, KV * hd, qkv_bias)
    a.o_proj = lin(H * hd, d, o_bias)
    if qk_norm:
        a.q_norm, a.k_norm = RMS(hd), RMS(hd)
    if sinks:
        a.sinks = nn.Parameter(torch.empty(H, device=META))
    return a


def mla(c, d, H):
    a = nn.Module()
    bias = g(c, "attention_bias", False)
    qh = c["qk_nope_head_dim"] + c["qk_rope_head_dim"]
    if c.get("q_lora_rank") is None:
        a.q_proj = lin(d, H * qh, False)
    else:
        a.q_a_proj = lin(d, c["q_lora_rank"], bias)
        a.q_a_layernorm = RMS(c["q_lora_rank"])
        a.q_b_proj = lin(c["q_lora_rank"], H * qh, False)
    a.kv_a_proj_with_mqa = lin(d, c["kv_lora_rank"] + c["qk_rope_head_dim"], bias)
    a.kv_a_layernorm = RMS(c["kv_lora_rank"])
    a.kv_b_proj = lin(c["kv_lora_rank"], H * (c["qk_nope_head_dim"] + c["v_head_dim"]), False)
    a.o_proj = lin(H * c["v_head_dim"], d, bias)
    return a


class Moe(nn.Module):
    def __init__(self, d, E, fe, shared=0, shared_gate=False, router_bias=False, expert_bias=False):
        super().__init__()
        self.gate = lin(d, E, router_bias)
        self.experts = nn.ModuleList([Gated(d, fe, expert_bias) for _ in range(E)])
        if shared:
            self.shared = Gated(d, shared)
        if shared_gate:
            self.shared_gate = lin(d, 1, False)


def decoder(c, mt):
    d, L, H = c["hidden_size"], c["num_hidden_layers"], c["num_attention_heads"]
    KV = g(c, "num_key_value_heads", H)
    hd = g(c, "head_dim", d // H)
    tie_default = mt in ("gemma", "gemma2", "gemma3_text")
    m = nn.Module()
    m.embed_tokens = nn.Embedding(c["vocab_size"], d, device=META)
    m.layers = nn.ModuleList()
    for i in range(L):
        b = nn.Module()
        b.input_layernorm, b.post_attention_layernorm = RMS(d), RMS(d)
        if mt in ("gemma2", "gemma3_text"):
            b.pre_feedforward_layernorm, b.post_feedforward_layernorm = RMS(d), RMS(d)
        if mt in ("deepseek_v2", "deepseek_v3"):
            b.self_attn = mla(c, d, H)
        else:
            bias = g(c, "attention_bias", mt == "gpt_oss")
            qkv_bias = True if mt in ("qwen2", "qwen2_moe") else bias
            o_bias = False if mt in ("qwen2", "qwen2_moe", "mistral", "mixtral", "phi3") else bias
            if mt in ("mistral", "mixtral", "phi3"):
                qkv_bias = False
            b.self_attn = attn(c, d, H, KV, hd, qkv_bias, o_bias, mt in ("qwen3", "qwen3_moe", "gemma3_text"), mt == "gpt_oss")
        b.mlp = mlp_for(c, mt, d, i)
        m.layers.append(b)
    m.norm = RMS(d)
    if not g(c, "tie_word_embeddings", tie_default):
        m.lm_head = lin(d, c["vocab_size"], False)
    return m


def mlp_for(c, mt, d, i):
    f = c.get("intermediate_size")
    if mt == "mixtral":
        return Moe(d, c["num_local_experts"], f)
    if mt == "gpt_oss":
        return Moe(d, c["num_local_experts"], f, router_bias=True, expert_bias=True)
    if mt in ("qwen2_moe", "qwen3_moe"):
        step = g(c, "decoder_sparse_step", 1)
        if i not in g(c, "mlp_only_layers", []) and c["num_experts"] > 0 and (i + 1) % step == 0:
            sh = g(c, "shared_expert_intermediate_size", 0) if mt == "qwen2_moe" else 0
            return Moe(d, c["num_experts"], c["moe_intermediate_size"], sh, sh > 0)
        return Gated(d, f)
    if mt in ("deepseek", "deepseek_v2", "deepseek_v3"):
        if c.get("n_routed_experts") is not None and i >= g(c, "first_k_dense_replace", 0) and i % g(c, "moe_layer_freq", 1) == 0:
            sh = g(c, "n_shared_experts", 0) * c["moe_intermediate_size"]
            return Moe(d, c["n_routed_experts"], c["moe_intermediate_size"], sh, router_bias=g(c, "topk_method", "") == "noaux_tc")
        return Gated(d, f)
    return Gated(d, f, g(c, "mlp_bias", False))


def count(c):
    mt = c["model_type"]
    m = gpt2_like(c, mt == "openai-gpt") if mt in ("gpt2", "openai-gpt") else decoder(c, mt)
    return sum(p.numel() for p in m.parameters())


def main():
    out = {"registry": {}, "tiny": {}}
    for f in sorted(glob.glob(os.path.join(ROOT, "models", "registry", "*.json"))):
        for e in json.load(open(f))["models"]:
            c = {**e.get("library_defaults", {}), **e["config"]}
            try:
                out["registry"][e["name"]] = count(c)
            except Exception as err:  # an entry the reference cannot build is reported, not fatal
                print(f"{e['name']}: {err}", file=sys.stderr)
    tiny = json.load(open(os.path.join(ROOT, "test", "arch", "fixtures", "tiny-configs.json")))
    for name, c in tiny.items():
        out["tiny"][name] = count(c)
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    print()


if __name__ == "__main__":
    main()
