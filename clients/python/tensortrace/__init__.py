"""Python client of a tensortrace server: TransformerLens-shaped numpy caches, exports, the live stream, saved traces.

    from tensortrace import TensorTrace
    tt = TensorTrace("http://localhost:8080")
    logits, cache = tt.run_with_cache("The capital of France is", names_filter=lambda n: "attn" in n)
    cache["blocks.0.attn.hook_pattern"][0, 1]   # head 1's [query_pos, key_pos] pattern

Values match TransformerLens HookedTransformer.from_pretrained_no_processing(...) with prepend_bos=False.
"""

from .client import Cache, TensorTrace, TensorTraceError, transformer_lens_shape
from .safetensors import parse_safetensors, read_safetensors

load = TensorTrace.load

__all__ = [
    "Cache",
    "TensorTrace",
    "TensorTraceError",
    "load",
    "parse_safetensors",
    "read_safetensors",
    "transformer_lens_shape",
]
__version__ = "0.1.0"
