"""Write a trained Gpt2 as a Hugging Face GPT-2 folder: config.json + model.safetensors (fp32, HF tensor names).

safetensors layout: 8-byte little-endian header length, a JSON header {name: {dtype, shape, data_offsets}},
then the raw little-endian tensor bytes back to back (offsets relative to the end of the header).
"""
import json
import struct
from pathlib import Path

import numpy as np


def hf_config(cfg):
    """HF GPT2Config fields; dropout is 0 because training used none."""
    return {
        "model_type": "gpt2",
        "architectures": ["GPT2LMHeadModel"],
        "activation_function": "gelu_new",
        "vocab_size": cfg.vocab_size,
        "n_positions": cfg.n_positions,
        "n_ctx": cfg.n_positions,
        "n_embd": cfg.n_embd,
        "n_layer": cfg.n_layer,
        "n_head": cfg.n_head,
        "n_inner": None,
        "layer_norm_epsilon": cfg.layer_norm_epsilon,
        "initializer_range": 0.02,
        "embd_pdrop": 0.0,
        "attn_pdrop": 0.0,
        "resid_pdrop": 0.0,
        "scale_attn_weights": True,
        "tie_word_embeddings": True,
        "bos_token_id": 50256,
        "eos_token_id": 50256,
        "torch_dtype": "float32",
    }


def write_safetensors(path, tensors, metadata=None):
    """tensors: ordered {name: np.ndarray float32}. Header padded with spaces to an 8-byte boundary."""
    header, offset, blobs = {}, 0, []
    for name, arr in tensors.items():
        data = np.ascontiguousarray(arr, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = metadata
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for blob in blobs:
            f.write(blob)


def read_safetensors(path):
    """Minimal reader (used to check the export round-trips): {name: np.ndarray}."""
    buf = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", buf[:8])
    header = json.loads(buf[8:8 + n])
    header.pop("__metadata__", None)
    base = 8 + n
    return {k: np.frombuffer(buf[base + v["data_offsets"][0]:base + v["data_offsets"][1]], dtype="<f4")
            .reshape(v["shape"]) for k, v in header.items()}


def export(model, out_dir, metadata=None):
    """The module names are the HF names, so the state dict is copied name for name (Conv1D already [in, out])."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}
    write_safetensors(out / "model.safetensors", tensors, metadata)
    (out / "config.json").write_text(json.dumps(hf_config(model.cfg), indent=2) + "\n")
    back = read_safetensors(out / "model.safetensors")
    assert all(np.array_equal(back[k], tensors[k]) for k in tensors), "safetensors round trip failed"
    return out
