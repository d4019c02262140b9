"""Independent direct logit attribution (numpy, float64), written from TransformerLens' definition.

Runs the reference GPT-2 (gpt2_reference.gpt2), builds the residual stack at the last position the way
TransformerLens' decompose_resid/stack_head_results do (embed, pos_embed, per head z_h @ W_O[h], each b_O, each MLP
output without its bias, each MLP bias), applies ln_final with the frozen final scale (apply_ln_to_stack: centre,
divide by the scale) and dots with W_U[:, a] (- W_U[:, b]). Prints JSON.

Usage:
  /usr/bin/python3 tools/reference/dla_reference.py MODEL_DIR --ids 464,3139,286 --target 6342[,7065]
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gpt2_reference import gpt2, load_safetensors  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model_dir")
    ap.add_argument("--ids", required=True)
    ap.add_argument("--target", required=True)
    a = ap.parse_args()
    with open(os.path.join(a.model_dir, "config.json")) as f:
        cfg = json.load(f)
    w = load_safetensors(os.path.join(a.model_dir, "model.safetensors"))
    ids = [int(x) for x in a.ids.split(",")]
    target = [int(x) for x in a.target.split(",")]
    hooks = gpt2(np.array(ids), w, cfg)
    L, H, d = cfg["n_layer"], cfg["n_head"], cfg["n_embd"]
    dh = d // H
    W_U = w["wte.weight"].T  # [d, V]
    direction = W_U[:, target[0]] - (W_U[:, target[1]] if len(target) == 2 else 0)  # [d]

    labels, stack = ["embed", "pos_embed"], [hooks["hook_embed"][-1], hooks["hook_pos_embed"][-1]]
    for l in range(L):
        W_O = w[f"h.{l}.attn.c_proj.weight"].reshape(H, dh, d)  # [H, dh, d]
        z = hooks[f"blocks.{l}.attn.hook_z"][-1]  # [H, dh]
        result = np.einsum("hk,hkd->hd", z, W_O)  # [H, d]: TransformerLens attn.hook_result
        for h in range(H):
            labels.append(f"L{l}H{h}")
            stack.append(result[h])
        b_out = w[f"h.{l}.mlp.c_proj.bias"]
        labels += [f"L{l} attn bias", f"L{l} MLP", f"L{l} MLP bias"]
        stack += [w[f"h.{l}.attn.c_proj.bias"], hooks[f"blocks.{l}.hook_mlp_out"][-1] - b_out, b_out]
    stack = np.stack(stack)  # [components, d]
    scale = hooks["ln_final.hook_scale"][-1]
    normed = (stack - stack.mean(axis=-1, keepdims=True)) / scale * w["ln_f.weight"]  # apply_ln_to_stack, frozen
    parts = normed @ direction  # [components]
    logit = hooks["logits"][-1, target[0]] - (hooks["logits"][-1, target[1]] if len(target) == 2 else 0)
    print(
        json.dumps(
            {
                "labels": labels,
                "parts": parts.tolist(),
                "logit": float(logit),
                "ln_final_bias": float(w["ln_f.bias"] @ direction),
                "final_scale": float(scale),
            }
        )
    )


if __name__ == "__main__":
    main()
