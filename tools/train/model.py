"""GPT-2 in PyTorch with Hugging Face module names, so exporting is a name-for-name copy (nanoGPT style).

Linear layers are stored as HF's Conv1D: weight [in, out], y = x @ W + b. The unembedding is tied to wte.
"""
import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class Gpt2Config:
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    n_positions: int = 128  # longest training document is ~110 tokens
    vocab_size: int = 50257  # the real GPT-2 vocabulary, so r50k_base ids work unchanged
    layer_norm_epsilon: float = 1e-5


class Conv1D(nn.Module):
    """HF GPT-2's linear layer: weight [in, out], so y = x @ W + b."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_in, n_out) * 0.02)
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return x @ self.weight + self.bias  # [B, T, in] @ [in, out] -> [B, T, out]


def gelu_new(x):
    """GPT-2's tanh approximation of GELU (HF activation_function "gelu_new")."""
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.n_head = cfg.n_head
        self.c_attn = Conv1D(cfg.n_embd, 3 * cfg.n_embd)
        self.c_proj = Conv1D(cfg.n_embd, cfg.n_embd)

    def forward(self, x):
        B, T, C = x.shape
        hs = C // self.n_head
        q, k, v = self.c_attn(x).split(C, dim=2)  # [B, T, C] -> 3 x [B, T, C]
        q = q.view(B, T, self.n_head, hs).transpose(1, 2)  # (B, nh, T, hs)
        k = k.view(B, T, self.n_head, hs).transpose(1, 2)  # (B, nh, T, hs)
        v = v.view(B, T, self.n_head, hs).transpose(1, 2)  # (B, nh, T, hs)
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(hs)  # (B, nh, T, T)
        mask = torch.ones(T, T, dtype=torch.bool, device=x.device).tril()
        scores = scores.masked_fill(~mask, float("-inf"))
        z = scores.softmax(dim=-1) @ v  # (B, nh, T, T) @ (B, nh, T, hs) -> (B, nh, T, hs)
        z = z.transpose(1, 2).contiguous().view(B, T, C)  # (B, T, C)
        return self.c_proj(z)


class Mlp(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.c_fc = Conv1D(cfg.n_embd, 4 * cfg.n_embd)
        self.c_proj = Conv1D(4 * cfg.n_embd, cfg.n_embd)

    def forward(self, x):
        return self.c_proj(gelu_new(self.c_fc(x)))  # [B, T, C] -> [B, T, 4C] -> [B, T, C]


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.n_embd, eps=cfg.layer_norm_epsilon)
        self.attn = Attention(cfg)
        self.ln_2 = nn.LayerNorm(cfg.n_embd, eps=cfg.layer_norm_epsilon)
        self.mlp = Mlp(cfg)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))  # resid_mid
        return x + self.mlp(self.ln_2(x))  # resid_post


class Gpt2(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.wte = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.wpe = nn.Embedding(cfg.n_positions, cfg.n_embd)
        self.h = nn.ModuleList([Block(cfg) for _ in range(cfg.n_layer)])
        self.ln_f = nn.LayerNorm(cfg.n_embd, eps=cfg.layer_norm_epsilon)
        nn.init.normal_(self.wte.weight, std=0.02)
        nn.init.normal_(self.wpe.weight, std=0.01)
        # GPT-2's scaled init of the residual projections: std 0.02 / sqrt(2 * n_layer).
        for block in self.h:
            for proj in (block.attn.c_proj, block.mlp.c_proj):
                nn.init.normal_(proj.weight, std=0.02 / math.sqrt(2 * cfg.n_layer))

    def hidden(self, ids):
        """[B, T] token ids -> [B, T, C] final normalised residual stream (ln_f output)."""
        T = ids.shape[1]
        pos = torch.arange(T, device=ids.device)
        x = self.wte(ids) + self.wpe(pos)  # [B, T, C]
        for block in self.h:
            x = block(x)
        return self.ln_f(x)

    def forward(self, ids, vocab_subset=None):
        """Logits over the full vocabulary, or only over `vocab_subset` ids (training speed-up): [B, T, V']."""
        h = self.hidden(ids)
        w = self.wte.weight if vocab_subset is None else self.wte.weight[vocab_subset]
        return h @ w.t()  # [B, T, C] @ [C, V'] -> [B, T, V']
