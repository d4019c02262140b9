"""Independent reference for src/sampling: splitmix64 draws + temperature / top-k / top-p sampling in numpy.

Writes test/sampling/fixtures/sampling-reference.json. Run: /usr/bin/python3 test/sampling/reference_sampling.py
Written from the definitions (HF-style filter order: temperature, top-k, top-p), not from the TypeScript code.
"""
import json
import os
import numpy as np

M = (1 << 64) - 1


def splitmix64(seed, counter):
    z = (seed + (counter + 1) * 0x9E3779B97F4A7C15) & M
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
    return z ^ (z >> 31)


def uniform(seed, counter):
    return (splitmix64(seed, counter) >> 11) / 2.0**53


def sample(logits, temperature, top_k, top_p, seed, counter):
    logits = logits.astype(np.float64)
    raw = np.exp(logits - logits.max()); raw /= raw.sum()
    if temperature == 0 or top_k == 1:
        i = int(np.argmax(logits))
        return dict(id=i, candidates=1, prob=raw[i], prob_filtered=1.0, draw=None, counter=counter)
    z = (logits - logits.max()) / temperature
    p = np.exp(z); p /= p.sum()
    order = np.lexsort((np.arange(len(p)), -p))  # descending prob, ties: lower id
    if top_k > 0:
        order = order[:top_k]
    if top_p < 1:
        cum = np.cumsum(p[order])
        n = int(np.searchsorted(cum, top_p, side='left')) + 1  # first index with cum >= top_p
        order = order[:min(n, len(order))]
    u = uniform(seed, counter)
    q = p[order]; mass = q.sum()
    j = int(np.searchsorted(np.cumsum(q), u * mass, side='right'))
    j = min(j, len(order) - 1)
    i = int(order[j])
    return dict(id=i, candidates=len(order), prob=raw[i], prob_filtered=p[i] / mass, draw=u, counter=counter + 1)


def main():
    rng = np.random.default_rng(7)
    logits = (rng.standard_normal(1000) * 2.5).astype(np.float32)
    cases = []
    for (t, k, p) in [(1.0, 0, 1.0), (0.7, 40, 1.0), (1.3, 0, 0.9), (0.9, 50, 0.8), (0.0, 0, 1.0), (2.0, 1, 1.0), (1.0, 5, 0.5)]:
        for seed in [0, 42, 4294967295]:
            counter = 0
            steps = []
            for _ in range(12):
                r = sample(logits, t, k, p, seed, counter)
                counter = r.pop('counter')
                steps.append({k2: (float(v) if isinstance(v, (np.floating, float)) else v) for k2, v in r.items()})
            cases.append(dict(temperature=t, top_k=k, top_p=p, seed=seed, steps=steps))
    out = dict(
        splitmix64_seed_1234567=[str(splitmix64(1234567, i)) for i in range(3)],
        uniform_seed_42=[uniform(42, i) for i in range(3)],
        logits=[float(x) for x in logits],
        cases=cases,
    )
    path = os.path.join(os.path.dirname(__file__), 'fixtures', 'sampling-reference.json')
    with open(path, 'w') as f:
        json.dump(out, f)
    print('wrote', path)


if __name__ == '__main__':
    main()
