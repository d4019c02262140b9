"""Independent reference for the stream tests: decode-step values and a seeded sampled continuation.

Runs the numpy reference GPT-2 (tools/reference/gpt2_reference.py, full recompute, no KV cache) and the numpy
sampling reference (test/sampling/reference_sampling.py) on the tiny fixture; writes
test/stream/fixtures/stream-reference.json. Run: /usr/bin/python3 test/stream/reference_stream.py
"""
import importlib.util
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..'))


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


ref = load('gpt2_reference', os.path.join(ROOT, 'tools', 'reference', 'gpt2_reference.py'))
samp = load('reference_sampling', os.path.join(ROOT, 'test', 'sampling', 'reference_sampling.py'))

MODEL = os.path.join(ROOT, 'test', 'fixtures', 'tiny-gpt2')
PROMPT = [464, 3139, 286, 4881, 318]  # "The capital of France is"
SITES = ['hook_resid_post', 'hook_attn_out', 'mlp.hook_post']


def main():
    cfg = json.load(open(os.path.join(MODEL, 'config.json')))
    w = ref.load_safetensors(os.path.join(MODEL, 'model.safetensors'))
    n_layer = cfg['n_layer']

    def last_row_stats(ids):
        hooks = ref.gpt2(np.array(ids), w, cfg)
        stats = {}
        for i in range(n_layer):
            for s in SITES:
                row = hooks[f'blocks.{i}.{s}'][-1]
                stats[f'blocks.{i}.{s}'] = dict(mean=float(row.mean()), l2_norm=float(np.sqrt((row ** 2).sum())))
        pattern0 = hooks['blocks.0.attn.hook_pattern'][:, -1, :]  # [head, key_pos] at the last query
        logits = hooks['logits'][-1]
        return stats, pattern0.tolist(), logits

    # Greedy: full recompute after every token (the stream uses the KV cache; results must agree).
    ids = list(PROMPT)
    greedy = []
    steps = []
    for s in range(4):
        stats, pattern0, logits = last_row_stats(ids)
        if s > 0:
            steps.append(dict(step=s, position=len(ids) - 1, stats=stats, pattern0=pattern0))
        nxt = int(np.argmax(logits))
        p = np.exp(logits - logits.max()); p /= p.sum()
        greedy.append(dict(id=nxt, prob=float(p[nxt])))
        ids.append(nxt)

    # Seeded sampling with the numpy sampler on reference logits.
    params = dict(temperature=0.8, top_k=20, top_p=0.9, seed=42)
    ids = list(PROMPT)
    counter = 0
    sampled = []
    for _ in range(6):
        logits = ref.gpt2(np.array(ids), w, cfg)['logits'][-1].astype(np.float32)
        r = samp.sample(logits, params['temperature'], params['top_k'], params['top_p'], params['seed'], counter)
        counter = r['counter']
        sampled.append(dict(id=r['id'], draw=r['draw'], candidates=r['candidates']))
        ids.append(r['id'])

    out = dict(prompt=PROMPT, greedy=greedy, decode_steps=steps, sampling=dict(params=params, tokens=sampled))
    path = os.path.join(HERE, 'fixtures', 'stream-reference.json')
    with open(path, 'w') as f:
        json.dump(out, f, indent=1)
    print('wrote', path)


if __name__ == '__main__':
    main()
