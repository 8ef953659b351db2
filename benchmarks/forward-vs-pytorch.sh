#!/usr/bin/env bash
# bip against PyTorch on the forward (perplexity) workload, run in turn on this machine: for each
# batch size, ROUNDS rounds of `bip bench` (with its sgemm ceiling measured in turn) then
# benchmarks/pytorch-forward.py on the same model (converted with `bip convert`) and the same
# WikiText2 text. With PRECISIONS="fp32 bf16" each round runs both sides in each precision in
# turn (bip --compute fp32/bf16, PyTorch float32/bfloat16). A MODEL that is already a Hugging Face
# directory (config.json) is used as it is. Prints one line per run; BENCHMARKS.md records the
# figures. Not run in CI.
#
#   [PRECISIONS="fp32 bf16"] benchmarks/forward-vs-pytorch.sh [BIP] [MODEL] [SECONDS] [ROUNDS] [BATCHES...]
#   e.g. benchmarks/forward-vs-pytorch.sh .build/release/bip smollm2-135m 20 2 8 1
set -euo pipefail
bip=${1:-.build/release/bip}; model=${2:-smollm2-135m}; seconds=${3:-20}; rounds=${4:-2}
shift $(( $# < 4 ? $# : 4 )) || true
batches=("$@"); [ ${#batches[@]} -eq 0 ] && batches=(8 1)
data=${BIP_DATA:-datasets/cache}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
precisions=(${PRECISIONS:-fp32})
if [ -f "$model/config.json" ]; then hf=$model; else hf=$work/model; "$bip" convert --model "$model" --output "$hf" >/dev/null 2>&1; fi
"$bip" tokenize --model "$model" --json \
    --text "$(head -c 100000 "$data/wikitext2/wikitext-2-raw-v1.test.joined.txt")" > "$work/ids.json" 2>/dev/null
here=$(cd "$(dirname "$0")" && pwd)
echo "machine: $(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2- | xargs), family $(grep -m1 "cpu family" /proc/cpuinfo | cut -d: -f2 | xargs) model $(grep -m1 "^model\s" /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; $("$bip" --version 2>/dev/null || true)"
for batch in "${batches[@]}"; do
    for round in $(seq "$rounds"); do
        for precision in "${precisions[@]}"; do
            "$bip" bench --model "$model" --compute "$precision" --batch "$batch" --seconds "$seconds" --json --data "$data" 2>/dev/null |
                python3 -c 'import json, sys; r = json.load(sys.stdin)
packed = r.get("packed_matmul_gflops")
print("batch %d round %s bip %s     %7.1f tokens/s  sgemm %.1f GFLOP/s in turn, ceiling %.0f tokens/s, reached %.1f%%%s, peak %.2f GB" % (
    r["batch"], sys.argv[1], sys.argv[2], r["tokens_per_second"], r["sgemm_gflops"], r["ceiling_tokens_per_second"],
    100 * r["gflops"] / r["sgemm_gflops"],
    "" if packed is None else "; packed matmul %.1f GFLOP/s, reached %.1f%% of it" % (packed, 100 * r["gflops"] / packed),
    r["peak_memory_bytes"] / 1e9))' "$round" "$precision"
        done
        for precision in "${precisions[@]}"; do
            dtype=$([ "$precision" = bf16 ] && echo bfloat16 || echo float32)
            python3 "$here/pytorch-forward.py" "$hf" "$work/ids.json" --batch "$batch" --seconds "$seconds" --dtype "$dtype" 2>/dev/null |
                python3 -c 'import json, sys; r = json.load(sys.stdin)
print("batch %d round %s pytorch %s %7.1f tokens/s  (torch %s, %s, %d threads)" % (r["batch"], sys.argv[1], sys.argv[2], r["tokens_per_second"], r["torch"], r["dtype"], r["threads"]))' "$round" "$precision"
        done
    done
done
