#!/bin/sh
# Regenerate the committed test fixtures: tiny random checkpoints (fp32 + fp16 of the same draws) and reference outputs.
# Prompt ids come from the GPT-2 tokenizer (pinned separately in test/tokenizer); the reference takes ids, not text.
set -e
cd "$(dirname "$0")/../.."
npx tsx tools/checkpoint/make-random.ts --out test/fixtures/tiny-gpt2 --preset tiny --seed 1234
npx tsx tools/checkpoint/make-random.ts --out test/fixtures/tiny-gpt2-fp16 --preset tiny --seed 1234 --dtype F16
mkdir -p test/fixtures/reference
CAPITAL=464,3139,286,4881,318 # "The capital of France is"
FOX=15496,995,0,30325,222,383,2068,7586,21831,18045,625,262,16931,3290,11,289,2634,18798 # "Hello world! 😀 The quick brown fox jumps over the lazy dog, héllo"
PY=/usr/bin/python3
$PY tools/reference/gpt2_reference.py test/fixtures/tiny-gpt2 test/fixtures/reference/tiny-gpt2.capital.safetensors --ids $CAPITAL --greedy 8
$PY tools/reference/gpt2_reference.py test/fixtures/tiny-gpt2 test/fixtures/reference/tiny-gpt2.fox.safetensors --ids $FOX --greedy 8
$PY tools/reference/gpt2_reference.py test/fixtures/tiny-gpt2-fp16 test/fixtures/reference/tiny-gpt2-fp16.capital.safetensors --ids $CAPITAL --greedy 8
# The llama family: one random checkpoint per variant (tools/checkpoint/make_random_llama.py) and its reference dump.
# Prompt ids are arbitrary (these checkpoints have a 128-token vocabulary and no tokenizer); 10 tokens, longer than
# tiny-mistral's sliding window of 4.
LLAMA_IDS=5,17,99,3,42,64,8,120,77,31
for p in tiny-llama3 tiny-smollm tiny-qwen2 tiny-qwen3 tiny-mistral; do
  $PY tools/checkpoint/make_random_llama.py --preset $p --out test/fixtures/$p
  $PY tools/reference/llama_reference.py test/fixtures/$p test/fixtures/reference/$p.safetensors --ids $LLAMA_IDS --greedy 8
done
# interventions: the cases (seeded vectors) and the reference outputs on both dtypes
$PY tools/reference/intervention_cases.py test/fixtures/reference/intervention-cases.json
$PY tools/reference/gpt2_reference.py test/fixtures/tiny-gpt2 test/fixtures/reference/tiny-gpt2.interventions.safetensors --cases test/fixtures/reference/intervention-cases.json
$PY tools/reference/gpt2_reference.py test/fixtures/tiny-gpt2-fp16 test/fixtures/reference/tiny-gpt2-fp16.interventions.safetensors --cases test/fixtures/reference/intervention-cases.json
$PY tools/reference/intervention_cases.py test/fixtures/reference/llama-intervention-cases.json --llama
$PY tools/reference/llama_reference.py test/fixtures/tiny-qwen2 test/fixtures/reference/tiny-qwen2.interventions.safetensors --cases test/fixtures/reference/llama-intervention-cases.json
