"""The Python client against a real tensortrace server (started by test/clients/python-client.test.ts).

Environment: TENSORTRACE_URL (the server), TENSORTRACE_REFERENCE (tools/reference dump of the tiny fixture on
PROMPT, numpy float64 stored as float32), TENSORTRACE_TMP (a folder to write files into).
Run alone: PYTHONPATH=clients/python python3 -m unittest discover -s clients/python/tests -v
"""

import importlib.util
import json
import math
import os
import unittest

import numpy as np

from tensortrace import TensorTrace, TensorTraceError, load, read_safetensors

URL = os.environ.get("TENSORTRACE_URL", "http://localhost:8080")
REFERENCE = os.environ.get("TENSORTRACE_REFERENCE")
TMP = os.environ.get("TENSORTRACE_TMP", "/tmp")
PROMPT = "The capital of France is"
ZERO_HEAD_1 = [{"hook": "blocks.0.attn.hook_z", "heads": [1], "op": "zero"}]


def json_values(hook):
    """A JSON hook's full values as float32 (null = a masked -inf score), in its JSON shape."""
    vals = [-math.inf if v is None else v for v in hook["values"]]
    return np.asarray(vals, dtype=np.float64).astype(np.float32).reshape(hook["shape"])


class RunWithCache(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tt = TensorTrace(URL)
        cls.logits, cls.cache = cls.tt.run_with_cache(PROMPT)
        cls.json = cls.tt.trace(PROMPT, hooks=["*"], detail="full")

    def test_every_hook_equals_the_json_reply_with_transformer_lens_shapes(self):
        by_name = {h["hook"]: h for h in self.json["hooks"]}
        self.assertEqual(sorted(self.cache) + ["logits"], sorted(by_name))
        for name, arr in self.cache.items():
            h = by_name[name]
            expected = [1] + h["shape"] + ([1] if name.endswith("hook_scale") else [])
            self.assertEqual(list(arr.shape), expected, name)
            self.assertEqual(arr.dtype, np.float32, name)
            np.testing.assert_array_equal(arr.reshape(h["shape"]), json_values(h), err_msg=name)
        self.assertEqual(list(self.logits.shape), [1, 5, self.json["dims"]["d_vocab"]])
        np.testing.assert_array_equal(self.logits[0], json_values(by_name["logits"]))

    def test_against_the_independent_numpy_reference(self):
        if not REFERENCE:
            self.skipTest("TENSORTRACE_REFERENCE not set")
        ref, meta = read_safetensors(REFERENCE)
        self.assertEqual(json.loads(self.cache.metadata["token_ids"]), json.loads(meta["ids"]))
        compared = 0
        for name, want in ref.items():
            if name == "logits":
                got = self.logits[0]
            elif name in self.cache:
                got = self.cache[name][0].reshape(want.shape)
            else:
                continue
            finite = np.isfinite(want)
            np.testing.assert_array_equal(got[~finite], want[~finite], err_msg=name)
            np.testing.assert_allclose(got[finite], want[finite], rtol=2e-5, atol=2e-5, err_msg=name)
            compared += 1
        self.assertGreaterEqual(compared, 40)

    def test_pattern_indexing_works_like_transformer_lens(self):
        pattern = self.cache["blocks.0.attn.hook_pattern"]
        n_head = self.json["dims"]["n_head"]
        self.assertEqual(pattern.shape, (1, n_head, 5, 5))
        for h in range(n_head):
            head = pattern[0, h]
            np.testing.assert_allclose(head.sum(axis=-1), np.ones(5), atol=1e-5)
            self.assertTrue(np.all(np.triu(head, 1) == 0), "causal")
        self.assertEqual(self.cache["blocks.0.attn.hook_q"].shape, (1, 5, n_head, self.json["dims"]["d_head"]))
        self.assertEqual(self.cache["blocks.0.ln1.hook_scale"].shape, (1, 5, 1))

    def test_names_filter_forms(self):
        _, attn = self.tt.run_with_cache(PROMPT, names_filter=lambda n: "attn" in n)
        self.assertEqual(sorted(attn), sorted(n for n in self.cache if "attn" in n))
        for name, arr in attn.items():
            np.testing.assert_array_equal(arr, self.cache[name], err_msg=name)
        _, one = self.tt.run_with_cache(PROMPT, names_filter="blocks.1.hook_resid_post")
        self.assertEqual(list(one), ["blocks.1.hook_resid_post"])
        _, listed = self.tt.run_with_cache(PROMPT, names_filter=["blocks.*.attn.hook_pattern", "hook_embed"])
        self.assertEqual(set(listed), {"hook_embed"} | {n for n in self.cache if n.endswith("attn.hook_pattern")})

    def test_interventions_change_the_values_as_asked(self):
        logits, cache = self.tt.run_with_cache(PROMPT, interventions=ZERO_HEAD_1)
        z = cache["blocks.0.attn.hook_z"]
        self.assertTrue(np.all(z[0, :, 1] == 0))
        np.testing.assert_array_equal(z[0, :, 0], self.cache["blocks.0.attn.hook_z"][0, :, 0])
        self.assertFalse(np.array_equal(cache["blocks.1.hook_resid_post"], self.cache["blocks.1.hook_resid_post"]))
        reply = self.tt.trace(PROMPT, interventions=ZERO_HEAD_1, top_k=1)
        top = reply["top_k"][0]
        self.assertEqual(int(np.argmax(logits[0, -1])), top["id"])
        self.assertAlmostEqual(float(logits[0, -1, top["id"]]), top["logit"], places=4)

    def test_load_reads_an_export_file(self):
        path = os.path.join(TMP, "py-export.safetensors")
        self.tt.export(PROMPT, path, hooks=["*"])
        cache = load(path)
        self.assertEqual(sorted(cache), sorted(list(self.cache) + ["logits"]))
        for name, arr in self.cache.items():
            np.testing.assert_array_equal(cache[name], arr, err_msg=name)
        self.assertEqual(cache.metadata["model"], self.json["model"])
        flat = load(path, tl_shapes=False)
        self.assertEqual(flat["blocks.0.attn.hook_pattern"].shape, self.cache["blocks.0.attn.hook_pattern"].shape[1:])

    def test_errors_are_problems_with_a_code(self):
        with self.assertRaises(TensorTraceError) as ctx:
            self.tt.run_with_cache(PROMPT, names_filter="blocks.99.hook_resid_post")
        self.assertEqual(ctx.exception.status, 400)
        self.assertTrue(ctx.exception.code)
        self.assertTrue(ctx.exception.detail)


class SavedTraces(unittest.TestCase):
    def test_save_reopen_verify_list_delete(self):
        tt = TensorTrace(URL)
        saved = tt.save(PROMPT, hooks=["*"], interventions=ZERO_HEAD_1)
        self.assertEqual(saved["links"]["share"], "/?trace=" + saved["id"])
        _, live = tt.run_with_cache(PROMPT, interventions=ZERO_HEAD_1)
        stored = tt.saved_tensors(saved["id"])
        for name, arr in live.items():
            np.testing.assert_array_equal(stored[name], arr, err_msg=name)
        (stored_edit,) = tt.saved(saved["id"])["recipe"]["request"]["interventions"]
        self.assertEqual({k: stored_edit[k] for k in ZERO_HEAD_1[0]}, ZERO_HEAD_1[0])  # defaults filled in too
        v = tt.verify(saved["id"])
        self.assertTrue(v["match"], v["detail"])
        self.assertIn(saved["id"], [t["id"] for t in tt.list_saved(limit=100)["items"]])
        tt.delete_saved(saved["id"])
        with self.assertRaises(TensorTraceError) as ctx:
            tt.saved(saved["id"])
        self.assertEqual((ctx.exception.status, ctx.exception.code), (404, "trace_not_found"))


@unittest.skipIf(importlib.util.find_spec("websockets") is None, "websockets is not installed")
class Generate(unittest.TestCase):
    def test_greedy_generation_streams_tokens_and_equals_the_trace_continuation(self):
        tt = TensorTrace(URL)
        seen = []
        done = tt.generate(PROMPT, max_new_tokens=4, on_token=seen.append, temperature=0, stop_at_eos=False)
        self.assertEqual(done["type"], "done")
        self.assertEqual([f["token"]["id"] for f in seen], done["token_ids"])
        self.assertEqual([f["index"] for f in seen], list(range(len(seen))))
        self.assertEqual(len(seen), 4)
        greedy = tt.trace(PROMPT, hooks=[], max_new_tokens=4, stop_at_eos=False)["generated"]
        self.assertEqual(done["token_ids"], [t["id"] for t in greedy["tokens"]])

    def test_compare_streams_the_clean_generation_next_to_the_intervened_one(self):
        tt = TensorTrace(URL)
        ablate = [{"hook": "blocks.0.attn.hook_z", "heads": [0, 1, 2, 3], "op": "zero"}]
        seen = []
        done = tt.generate(PROMPT, max_new_tokens=3, on_token=seen.append, compare=True, interventions=ablate,
                           stop_at_eos=False, hooks=[])
        both = tt.trace(PROMPT, hooks=[], max_new_tokens=3, stop_at_eos=False, compare=True, interventions=ablate)
        self.assertEqual(done["token_ids"], [t["id"] for t in both["generated"]["tokens"]])
        self.assertEqual([f["baseline"]["token"]["id"] for f in seen],
                         [t["id"] for t in both["baseline"]["generated"]["tokens"]])
        self.assertEqual(done["baseline"]["text"], both["baseline"]["generated"]["text"])

    def test_on_token_returning_interventions_replaces_the_set(self):
        tt = TensorTrace(URL)
        seen = []

        def on_token(frame):
            seen.append(frame)
            if frame["index"] == 0:
                return [{"hook": "blocks.0.hook_attn_out", "positions": "last", "op": "scale", "factor": 2.5}]
            return None

        tt.generate(PROMPT, max_new_tokens=8, on_token=on_token, stop_at_eos=False, hooks=[])
        hashes = [f["interventions_hash"] for f in seen]
        self.assertIsNone(hashes[0])
        first = next(i for i, h in enumerate(hashes) if h is not None)  # the step the set took effect
        self.assertTrue(hashes[first].startswith("sha256:"))
        self.assertEqual(set(hashes[first:]), {hashes[first]})

    def test_a_bad_generate_raises_with_the_code(self):
        with self.assertRaises(TensorTraceError) as ctx:
            TensorTrace(URL).generate(PROMPT, max_new_tokens=2, hooks=["blocks.99.nothing"])
        self.assertTrue(ctx.exception.code)


if __name__ == "__main__":
    unittest.main()
