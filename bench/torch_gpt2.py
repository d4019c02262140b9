"""An independent PyTorch GPT-2 with hooks, for the bench's side-by-side section (bench/torch.ts).

Written from the GPT-2 definition (nn.Modules, a KV cache, forward hooks on identity hook points named as
TransformerLens names them), not from our TypeScript code. It reads the same checkpoint folder (config.json +
model.safetensors, parsed here) and answers JSON lines on stdin, one JSON line each on stdout:

  {"op": "prefill", "n": 128, "hooks": true}            -> {"ms": ...}
  {"op": "decode", "prompt": 16, "steps": 32, "hooks": true}  -> {"msPerToken": ..., "tokens": [...]}

With "hooks", every hook point's output is captured by a forward hook and summarised per tensor (float64 mean,
standard deviation, min, max, abs-max and a 64-bin histogram), as tensortrace summarises every hook.
Token ids are the bench's: 1000 + (i * 7919) % 40000.
"""
import json
import math
import struct
import sys
import time

import numpy as np
import torch
from torch import nn

torch.set_num_threads(2)
torch.set_grad_enabled(False)


def load_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    header.pop("__metadata__", None)
    base = 8 + n
    out = {}
    for name, t in header.items():
        if t["dtype"] != "F32":
            raise SystemExit(f"bench checkpoint must be F32, {name} is {t['dtype']}")
        begin, end = t["data_offsets"]
        arr = np.frombuffer(raw, dtype="<f4", count=(end - begin) // 4, offset=base + begin)
        out[name.removeprefix("transformer.")] = torch.from_numpy(arr.copy().reshape(t["shape"]))
    return out


class HookPoint(nn.Identity):
    """An identity module whose output forward hooks observe (TransformerLens' HookPoint)."""


class LayerNorm(nn.Module):
    def __init__(self, w, b, eps):
        super().__init__()
        self.w, self.b, self.eps = w, b, eps
        self.hook_scale, self.hook_normalized = HookPoint(), HookPoint()

    def forward(self, x):  # [pos, d_model] -> [pos, d_model]
        x = x - x.mean(-1, keepdim=True)
        scale = self.hook_scale((x.pow(2).mean(-1, keepdim=True) + self.eps).sqrt())
        return self.hook_normalized(x / scale * self.w + self.b)


class Block(nn.Module):
    def __init__(self, p, i, cfg):
        super().__init__()
        g = lambda k: p[f"h.{i}.{k}"]  # noqa: E731
        eps = cfg["layer_norm_epsilon"]
        self.n_head = cfg["n_head"]
        self.ln1 = LayerNorm(g("ln_1.weight"), g("ln_1.bias"), eps)
        self.ln2 = LayerNorm(g("ln_2.weight"), g("ln_2.bias"), eps)
        self.c_attn = (g("attn.c_attn.weight"), g("attn.c_attn.bias"))
        self.c_proj = (g("attn.c_proj.weight"), g("attn.c_proj.bias"))
        self.c_fc = (g("mlp.c_fc.weight"), g("mlp.c_fc.bias"))
        self.mlp_proj = (g("mlp.c_proj.weight"), g("mlp.c_proj.bias"))
        for name in [
            "hook_resid_pre", "hook_q", "hook_k", "hook_v", "hook_attn_scores", "hook_pattern", "hook_z",
            "hook_attn_out", "hook_resid_mid", "hook_pre", "hook_post", "hook_mlp_out", "hook_resid_post",
        ]:
            setattr(self, name, HookPoint())

    def forward(self, x, past):  # x [pos, d_model]; past (k, v) [head, past_pos, d_head] or None
        x = self.hook_resid_pre(x)
        pos, d = x.shape
        h = self.n_head
        qkv = torch.addmm(self.c_attn[1], self.ln1(x), self.c_attn[0])  # [pos, 3 d_model]
        q, k, v = (t.reshape(pos, h, d // h) for t in qkv.split(d, dim=-1))  # [pos, head, d_head]
        q, k, v = self.hook_q(q), self.hook_k(k), self.hook_v(v)
        k, v = k.transpose(0, 1), v.transpose(0, 1)  # [head, pos, d_head]
        if past is not None:
            k, v = torch.cat([past[0], k], 1), torch.cat([past[1], v], 1)
        total = k.shape[1]
        scores = q.transpose(0, 1) @ k.transpose(1, 2) / math.sqrt(d // h)  # [head, pos, total]
        mask = torch.ones(pos, total, dtype=torch.bool).triu(total - pos + 1)
        scores = self.hook_attn_scores(scores.masked_fill(mask, float("-inf")))
        pattern = self.hook_pattern(scores.softmax(-1))
        z = self.hook_z((pattern @ v).transpose(0, 1))  # [pos, head, d_head]
        attn_out = self.hook_attn_out(torch.addmm(self.c_proj[1], z.reshape(pos, d), self.c_proj[0]))
        mid = self.hook_resid_mid(x + attn_out)
        pre = self.hook_pre(torch.addmm(self.c_fc[1], self.ln2(mid), self.c_fc[0]))  # [pos, d_mlp]
        post = self.hook_post(0.5 * pre * (1 + torch.tanh(math.sqrt(2 / math.pi) * (pre + 0.044715 * pre.pow(3)))))
        mlp_out = self.hook_mlp_out(torch.addmm(self.mlp_proj[1], post, self.mlp_proj[0]))
        return self.hook_resid_post(mid + mlp_out), (k, v)


class Gpt2(nn.Module):
    def __init__(self, model_dir):
        super().__init__()
        with open(f"{model_dir}/config.json") as f:
            cfg = json.load(f)
        p = load_safetensors(f"{model_dir}/model.safetensors")
        self.wte, self.wpe = p["wte.weight"], p["wpe.weight"]
        self.blocks = nn.ModuleList(Block(p, i, cfg) for i in range(cfg["n_layer"]))
        self.ln_final = LayerNorm(p["ln_f.weight"], p["ln_f.bias"], cfg["layer_norm_epsilon"])
        self.hook_embed, self.hook_pos_embed, self.hook_logits = HookPoint(), HookPoint(), HookPoint()

    def forward(self, ids, past=None):  # ids [pos] int64 -> logits [pos, d_vocab], cache
        start = 0 if past is None else past[0][0].shape[1]
        positions = torch.arange(start, start + ids.shape[0])
        x = self.hook_embed(self.wte[ids]) + self.hook_pos_embed(self.wpe[positions])
        present = []
        for i, block in enumerate(self.blocks):
            x, kv = block(x, None if past is None else past[i])
            present.append(kv)
        return self.hook_logits(self.ln_final(x) @ self.wte.T), present


def summarise(t):
    """Per-hook summary in float64: moments, extrema, abs-max and a 64-bin histogram of the finite values."""
    x = t.detach().reshape(-1).double()
    finite = x[torch.isfinite(x)]
    lo, hi = finite.min(), finite.max()
    return (finite.mean(), finite.std(), lo, hi, finite.abs().max(), torch.histc(finite, 64, lo.item(), hi.item()))


class Capture:
    """Forward hooks on every HookPoint; `on` decides whether they summarise."""

    def __init__(self, model):
        self.on, self.count = False, 0
        for module in model.modules():
            if isinstance(module, HookPoint):
                module.register_forward_hook(self.hook)

    def hook(self, _module, _inputs, output):
        if self.on:
            summarise(output)
            self.count += 1


def bench_ids(n):
    return torch.tensor([1000 + (i * 7919) % 40000 for i in range(n)], dtype=torch.int64)


def main(model_dir):
    model = Gpt2(model_dir)
    capture = Capture(model)
    print(json.dumps({"ready": True, "threads": torch.get_num_threads(), "torch": torch.__version__}), flush=True)
    for line in sys.stdin:
        req = json.loads(line)
        capture.on = bool(req.get("hooks"))
        if req["op"] == "prefill":
            ids = bench_ids(req["n"])
            t0 = time.perf_counter()
            model(ids)
            print(json.dumps({"ms": (time.perf_counter() - t0) * 1e3}), flush=True)
        elif req["op"] == "decode":
            logits, past = model(bench_ids(req["prompt"]))
            tokens = []
            t0 = time.perf_counter()
            for _ in range(req["steps"]):
                nxt = int(logits[-1].argmax())
                tokens.append(nxt)
                logits, past = model(torch.tensor([nxt]), past)
            ms = (time.perf_counter() - t0) * 1e3
            print(json.dumps({"msPerToken": ms / req["steps"], "tokens": tokens}), flush=True)
        else:
            print(json.dumps({"error": f"unknown op {req['op']}"}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
