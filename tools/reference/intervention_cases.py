"""Writes test/fixtures/reference/intervention-cases.json: one case per op and selector form on the tiny fixture
(3 layers, d_model 32, 4 heads of d_head 8, d_mlp 128). Vectors are seeded draws, so the file is reproducible.

Also llama-family cases on tiny-qwen2 (2 layers, d_model 64, 8 heads / 2 key-value heads of d_head 8, d_mlp 64).

Usage: /usr/bin/python3 tools/reference/intervention_cases.py OUT.json [--llama]
"""
import json
import sys

import numpy as np

CAPITAL = [464, 3139, 286, 4881, 318]  # "The capital of France is"
ITALY = [464, 3139, 286, 8031, 318]  # "The capital of Italy is"
rng = np.random.default_rng(11)


def vec(n, s=1.0):
    return [round(float(x), 6) for x in rng.normal(0.0, s, n)]


def case(name, interventions, greedy=4, ids=CAPITAL):
    return {"name": name, "ids": ids, "interventions": interventions, "greedy": greedy}


cases = [
    case("zero_heads", [{"hook": "blocks.1.attn.hook_z", "heads": [0, 2], "op": "zero"}]),
    case("zero_neurons", [{"hook": "blocks.0.mlp.hook_post", "positions": [1, -1], "index": [3, 17, 100], "op": "zero"}]),
    case("mean_head", [{"hook": "blocks.2.attn.hook_z", "heads": [1], "op": "mean"}], greedy=0),
    case("mean_resid", [{"hook": "blocks.1.hook_resid_mid", "positions": [0, 2], "op": "mean"}], greedy=0),
    case("scale_last", [{"hook": "blocks.0.hook_attn_out", "positions": "last", "op": "scale", "factor": 2.5}]),
    case("add_steer", [{"hook": "blocks.1.hook_resid_pre", "op": "add", "vector": vec(32), "scale": 3.0}]),
    case("set_value_head", [{"hook": "blocks.0.attn.hook_v", "heads": [3], "positions": [2], "op": "set", "vector": vec(8)}]),
    case("clamp_pre", [{"hook": "blocks.1.mlp.hook_pre", "op": "clamp", "min": -0.1, "max": 0.2}]),
    case("clamp_fix_neuron", [{"hook": "blocks.0.mlp.hook_post", "index": [5], "op": "clamp", "min": 1.5, "max": 1.5}]),
    case("project_out", [{"hook": "blocks.2.hook_resid_mid", "op": "project", "vector": vec(32)}]),
    case("project_heads", [{"hook": "blocks.1.attn.hook_q", "heads": [0, 1], "op": "project", "vector": vec(8), "coeff": -1.0}]),
    case("patch_resid", [{"hook": "blocks.1.hook_resid_post", "positions": [3], "op": "patch", "source": {"token_ids": ITALY}}]),
    case("patch_head_all", [{"hook": "blocks.2.attn.hook_z", "heads": [2], "op": "patch", "source": {"token_ids": ITALY}}]),
    case("zero_key_head", [{"hook": "blocks.0.attn.hook_k", "heads": [1], "op": "zero"}]),
    case("set_embed", [{"hook": "hook_embed", "positions": [0], "op": "set", "vector": vec(32, 0.1)}]),
    case(
        "chain",
        [
            {"hook": "blocks.1.hook_resid_mid", "op": "add", "vector": vec(32)},
            {"hook": "blocks.1.hook_resid_mid", "op": "scale", "factor": 0.5, "index": [0, 1, 2, 3]},
            {"hook": "blocks.2.ln1.hook_normalized", "op": "clamp", "max": 0.5},
            {"hook": "blocks.0.hook_mlp_out", "positions": "last", "op": "zero"},
        ],
    ),
]
LLAMA_IDS = [5, 17, 99, 3, 42, 64, 8, 120, 77, 31]
LLAMA_SOURCE = [5, 17, 99, 3, 42, 11, 8, 120, 77, 31]
llama_cases = [
    case("zero_heads", [{"hook": "blocks.0.attn.hook_z", "heads": [1, 6], "op": "zero"}], ids=LLAMA_IDS),
    case("zero_kv_head", [{"hook": "blocks.1.attn.hook_v", "heads": [1], "op": "zero"}], ids=LLAMA_IDS),
    case("mean_neurons", [{"hook": "blocks.0.mlp.hook_post", "index": [2, 40], "op": "mean"}], greedy=0, ids=LLAMA_IDS),
    case("scale_rot_k", [{"hook": "blocks.1.attn.hook_rot_k", "heads": [0], "op": "scale", "factor": -1.5}], ids=LLAMA_IDS),
    case("add_steer", [{"hook": "blocks.1.hook_resid_pre", "positions": "last", "op": "add", "vector": vec(64), "scale": 2.0}], ids=LLAMA_IDS),
    case("set_gate", [{"hook": "blocks.0.mlp.hook_pre_linear", "positions": [2, -2], "op": "set", "vector": vec(64)}], ids=LLAMA_IDS),
    case("clamp_norm", [{"hook": "blocks.1.ln2.hook_normalized", "op": "clamp", "min": -1.0, "max": 1.0}], ids=LLAMA_IDS),
    case("project_out", [{"hook": "blocks.0.hook_resid_mid", "op": "project", "vector": vec(64)}], ids=LLAMA_IDS),
    case("patch_resid", [{"hook": "blocks.0.hook_resid_post", "positions": [5], "op": "patch", "source": {"token_ids": LLAMA_SOURCE}}], ids=LLAMA_IDS),
]
if "--llama" in sys.argv:
    cases = llama_cases
with open(sys.argv[1], "w") as f:
    json.dump({"cases": cases}, f, indent=1)
    f.write("\n")
