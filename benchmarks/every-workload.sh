#!/usr/bin/env bash
# Every forward-speed workload of BENCHMARKS.md in one run on this machine, each side in turn:
#   1. the perplexity workload on the default model, batch 8 and batch 1 x 128, bip (fp32 and bf16,
#      with the sgemm ceiling measured in turn) against PyTorch (float32 and bfloat16);
#   2. the same on a LLaMA-7B-shaped model (benchmarks/make-synthetic-7b.py), batch 1 x 128;
#   3. batch 1 x 128 on the default model against llama.cpp on the same GGUF file;
#   4. the zero-shot scorer against lm-evaluation-harness on the first DOCS HellaSwag documents.
# Stop other work on the machine first: a background job halves every figure. Needs the peers of
# BENCHMARKS.md (torch, transformers, lm-eval, accelerate, llama-cpp-python). Not run in CI.
#
#   benchmarks/every-workload.sh BIP SYNTHETIC_7B_DIR [SECONDS] [ROUNDS] [DOCS]
#   e.g. benchmarks/every-workload.sh .build/release/bip ../runs/synthetic-7b-4l 20 2 200
set -euo pipefail
bip=$1; seven_b=$2; seconds=${3:-20}; rounds=${4:-2}; docs=${5:-200}
data=${BIP_DATA:-datasets/cache}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
[ -f "$seven_b/config.json" ] || { echo "every-workload.sh: $seven_b has no config.json (make it with benchmarks/make-synthetic-7b.py)" >&2; exit 1; }
echo "== started $(date -u +%FT%TZ)"

echo "== 1. perplexity workload, default model"
PRECISIONS="fp32 bf16" BIP_DATA=$data "$here/forward-vs-pytorch.sh" "$bip" smollm2-135m "$seconds" "$rounds" 8 1

echo "== 2. perplexity workload, LLaMA-7B-shaped model $seven_b"
PRECISIONS="fp32 bf16" BIP_DATA=$data "$here/forward-vs-pytorch.sh" "$bip" "$seven_b" "$seconds" "$rounds" 1

echo "== 3. batch 1 against llama.cpp on the same GGUF file"
"$bip" tokenize --model smollm2-135m --json \
    --text "$(head -c 100000 "$data/wikitext2/wikitext-2-raw-v1.test.joined.txt")" > "$work/ids.json" 2>/dev/null
for round in $(seq "$rounds"); do
    result=$("$bip" bench --model smollm2-135m --batch 1 --seconds "$seconds" --no-sgemm --json --data "$data" 2>/dev/null)
    gguf=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["model"])' "$result")
    python3 -c 'import json, sys; r = json.loads(sys.argv[1]); print("batch 1 round %s bip fp32 %7.1f tokens/s" % (sys.argv[2], r["tokens_per_second"]))' "$result" "$round"
    (cd "$here" && python3 llama-cpp-forward.py "$gguf" "$work/ids.json" --seq-len 128 --seconds "$seconds") |
        python3 -c 'import json, sys; r = json.load(sys.stdin)
print("batch 1 round %s llama.cpp %7.1f tokens/s (forward alone %.1f; llama-cpp-python %s, %d threads)" % (
    sys.argv[1], r["tokens_per_second"], r["eval_only_tokens_per_second"], r["llama_cpp"], r["threads"]))' "$round"
done

echo "== 4. zero-shot scorer against lm-evaluation-harness, HellaSwag, $docs documents"
BIP_DATA=$data "$here/zero-shot-vs-lm-eval.sh" "$bip" smollm2-135m "$docs" "$rounds" 8
echo "== finished $(date -u +%FT%TZ)"
