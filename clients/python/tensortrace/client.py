"""TensorTrace: a client of a tensortrace server (stdlib HTTP + numpy), shaped like TransformerLens.

Values are raw activations: they match TransformerLens ``HookedTransformer.from_pretrained_no_processing(...)``
run with ``prepend_bos=False`` (no fold_ln, no centering, no BOS added).
"""

import json
import urllib.error
import urllib.parse
import urllib.request

import numpy as np

from .safetensors import parse_safetensors, read_safetensors

SAFETENSORS = "application/vnd.safetensors"


class TensorTraceError(Exception):
    """A problem+json answer of the server: ``status``, stable ``code``, a sentence in ``detail``, the whole ``body``."""

    def __init__(self, status, code, detail, body=None):
        super().__init__("%s %s: %s" % (status, code, detail))
        self.status = status
        self.code = code
        self.detail = detail
        self.body = body or {}


class Cache(dict):
    """Activations keyed by TransformerLens hook name (numpy arrays); ``metadata`` holds the file's recipe."""

    def __init__(self, arrays=(), metadata=None):
        super().__init__(arrays)
        self.metadata = dict(metadata or {})

    def to_torch(self):
        """The same cache as torch tensors (needs torch; shares memory with the numpy arrays where it can)."""
        import torch  # optional dependency

        out = Cache(metadata=self.metadata)
        for k, v in self.items():
            out[k] = torch.from_numpy(np.ascontiguousarray(v))
        return out


def transformer_lens_shape(name, array):
    """A tensor as the server exports it (no batch axis) -> TransformerLens' layout: batch axis of 1 in front, and the
    trailing singleton TransformerLens keeps on LayerNorm scales ([batch, pos, 1])."""
    out = array[None]
    if name.endswith("hook_scale"):
        out = out[..., None]
    return out


def _as_cache(tensors, metadata, tl_shapes):
    if not tl_shapes:
        return Cache(tensors, metadata)
    return Cache(((k, transformer_lens_shape(k, v)) for k, v in tensors.items()), metadata)


class TensorTrace:
    """``tt = TensorTrace("http://localhost:8080")``; every method is one or two HTTP requests."""

    def __init__(self, url="http://localhost:8080", timeout=600.0):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._hook_names = {}

    # ---------- HTTP ----------

    def _request(self, method, path, body=None, accept="application/json"):
        data = None if body is None else json.dumps(body).encode("utf-8")
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("accept", accept)
        if data is not None:
            req.add_header("content-type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as res:
                return res.status, res.headers.get("content-type", ""), res.read()
        except urllib.error.HTTPError as err:
            raw = err.read()
            try:
                problem = json.loads(raw.decode("utf-8"))
            except ValueError:
                problem = {"code": "http_%d" % err.code, "detail": raw.decode("utf-8", "replace")[:300]}
            raise TensorTraceError(err.code, problem.get("code"), problem.get("detail"), problem) from None

    def _json(self, method, path, body=None):
        status, _, raw = self._request(method, path, body)
        return None if status == 204 or not raw else json.loads(raw.decode("utf-8"))

    @staticmethod
    def _body(prompt, fields):
        body = {k: v for k, v in fields.items() if v is not None}
        if prompt is not None:
            body["prompt"] = prompt
        return body

    # ---------- traces ----------

    def models(self):
        """GET /models: the registry and which models run here."""
        return self._json("GET", "/models")

    def trace(self, prompt=None, *, interventions=None, hooks=None, model=None, **fields):
        """POST /trace: the JSON reply (summaries, attention, logit lens, top-k; ``detail="full"`` for raw values).
        ``interventions`` as in docs/interventions.md, e.g. ``[{"hook": "blocks.0.attn.hook_z", "heads": [1],
        "op": "zero"}]``; any other /trace field goes through as a keyword."""
        body = self._body(prompt, dict(fields, interventions=interventions, hooks=hooks, model=model))
        return self._json("POST", "/trace", body)

    def export(self, prompt=None, path=None, *, hooks=("*",), format="safetensors", **fields):
        """POST /trace as a file (safetensors or npz): writes ``path`` when given, returns the bytes."""
        body = self._body(prompt, dict(fields, hooks=list(hooks), format=format))
        _, _, raw = self._request("POST", "/trace", body, accept=SAFETENSORS)
        if path is not None:
            with open(path, "wb") as f:
                f.write(raw)
        return raw

    def hook_names(self, model=None):
        """Every hook name the model exposes (one tiny forward pass, remembered per model)."""
        key = model or ""
        if key not in self._hook_names:
            reply = self.trace(
                token_ids=[0], hooks=["*"], model=model, top_k=1, logit_lens=False, histogram_bins=1, positions="last"
            )
            self._hook_names[key] = [h["hook"] for h in reply["hooks"] if h["hook"] != "logits"]
        return list(self._hook_names[key])

    def run_with_cache(self, prompt, names_filter=None, *, model=None, interventions=None, tl_shapes=True, **fields):
        """Like TransformerLens ``model.run_with_cache(prompt, names_filter=...)``: ``(logits, cache)`` as numpy,
        logits ``[batch, pos, d_vocab]`` and the cache keyed by hook name with TransformerLens' shapes (batch axis
        included: ``cache["blocks.0.attn.hook_pattern"][0, h]`` is head h's ``[query_pos, key_pos]`` pattern).

        ``names_filter``: None (every hook), a name, a list of names (globs allowed, ``blocks.*.attn.hook_pattern``),
        or a function of the name. One forward pass on the server, read from its safetensors export."""
        if names_filter is None:
            hooks = ["*"]
        elif isinstance(names_filter, str):
            hooks = [names_filter, "logits"]
        elif callable(names_filter):
            hooks = [n for n in self.hook_names(model) if names_filter(n)] + ["logits"]
        else:
            hooks = list(names_filter) + ["logits"]
        raw = self.export(prompt, hooks=hooks, model=model, interventions=interventions, **fields)
        tensors, metadata = parse_safetensors(raw)
        logits = tensors.pop("logits")
        return logits[None], _as_cache(tensors, metadata, tl_shapes)

    @staticmethod
    def load(path, tl_shapes=True):
        """A safetensors file of an export or a saved trace -> Cache (TransformerLens shapes unless tl_shapes=False);
        ``cache.metadata`` holds the recipe (model, weights_sha256, token_ids, request, versions)."""
        tensors, metadata = read_safetensors(path)
        return _as_cache(tensors, metadata, tl_shapes)

    # ---------- the stream ----------

    def generate(self, prompt, max_new_tokens=16, on_token=None, **params):
        """Generate over the WebSocket stream (needs the ``websockets`` package). ``on_token(frame)`` is called with
        every ``token`` frame (``frame["token"]["text"]``, ``prob``, ``alternatives``, ``logit_lens``...); returns the
        ``done`` frame (``text``, ``token_ids``, ``reason``, ``timings``). Sampling: ``temperature``, ``top_k``,
        ``top_p``, ``seed``, ``stop``; ``interventions`` apply on every step. ``compare=True`` also runs the clean
        model in lockstep: each token frame has ``frame["baseline"]`` (the clean token, or None once it stopped) and
        the done frame ``done["baseline"]["text"]``. When ``on_token`` returns a list, it is sent as the new set of
        interventions (``[]``: none), in force from the next forward pass (frames carry ``interventions_hash``)."""
        from .stream import generate

        return generate(self.url, prompt, max_new_tokens, on_token, params, self.timeout)

    # ---------- saved traces ----------

    def save(self, prompt=None, *, interventions=None, hooks=None, model=None, **fields):
        """POST /traces: run and store; returns ``{"id", "recipe", "links": {"share": "/?trace=ID", ...}, ...}``."""
        body = self._body(prompt, dict(fields, interventions=interventions, hooks=hooks, model=model))
        return self._json("POST", "/traces", body)

    def saved(self, trace_id, verify=False):
        """GET /traces/ID: recipe and stored JSON reply (``verify=True`` reruns it: ``["verification"]["match"]``)."""
        q = "?verify=true" if verify else ""
        return self._json("GET", "/traces/%s%s" % (urllib.parse.quote(trace_id, safe=""), q))

    def verify(self, trace_id):
        """Rerun a saved trace's recipe on the server; the ``verification`` object (``match``, ``reason``, ...)."""
        return self.saved(trace_id, verify=True)["verification"]

    def saved_tensors(self, trace_id, tl_shapes=True):
        """GET /traces/ID/tensors -> Cache (``logits`` included when it was selected)."""
        _, _, raw = self._request("GET", "/traces/%s/tensors" % urllib.parse.quote(trace_id, safe=""), accept=SAFETENSORS)
        tensors, metadata = parse_safetensors(raw)
        return _as_cache(tensors, metadata, tl_shapes)

    def list_saved(self, limit=20, cursor=None):
        """GET /traces: newest first; pass the reply's ``next_cursor`` as ``cursor`` for the next page."""
        q = {"limit": limit}
        if cursor is not None:
            q["cursor"] = cursor
        return self._json("GET", "/traces?" + urllib.parse.urlencode(q))

    def delete_saved(self, trace_id):
        """DELETE /traces/ID."""
        self._json("DELETE", "/traces/%s" % urllib.parse.quote(trace_id, safe=""))
