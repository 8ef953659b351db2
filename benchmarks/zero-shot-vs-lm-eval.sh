#!/usr/bin/env bash
# bip's zero-shot scorer against lm-evaluation-harness on the same documents, run in turn on this
# machine: for ROUNDS rounds, `bip eval --protocol lm-eval --tasks hellaswag --limit DOCS`, then
# `lm_eval --model hf` (fp32, on CPU, torch's 2 threads) on the same model (converted with
# `bip convert`) and the first DOCS documents of the same HellaSwag file (a local copy of the
# harness's hellaswag task that reads $BIP_DATA's file; its utils.py is taken from the installed
# lm_eval at run time). Prints wall time, documents/s and acc / acc_norm of each run (both sides
# should give the same accuracies). Needs `pip install lm-eval accelerate`. BENCHMARKS.md records
# the figures. Not run in CI.
#
#   benchmarks/zero-shot-vs-lm-eval.sh [BIP] [MODEL] [DOCS] [ROUNDS] [LM_EVAL_BATCH]
#   e.g. benchmarks/zero-shot-vs-lm-eval.sh .build/release/bip smollm2-135m 200 2 8
set -euo pipefail
bip=${1:-.build/release/bip}; model=${2:-smollm2-135m}; docs=${3:-200}; rounds=${4:-2}; lm_batch=${5:-8}
data=$(cd "${BIP_DATA:-datasets/cache}" && pwd)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
"$bip" convert --model "$model" --output "$work/model" >/dev/null 2>&1
mkdir "$work/tasks"
cp "$(python3 -c 'import lm_eval, os; print(os.path.dirname(lm_eval.__file__))')/tasks/hellaswag/utils.py" "$work/tasks/"
cat > "$work/tasks/hellaswag_local.yaml" <<YAML
task: hellaswag_local
dataset_path: json
dataset_kwargs:
  data_files:
    validation: $data/hellaswag/hellaswag_val.jsonl
output_type: multiple_choice
validation_split: validation
process_docs: !function utils.process_docs
doc_to_text: "{{query}}"
doc_to_target: "{{label}}"
doc_to_choice: "choices"
metric_list:
  - metric: acc
    aggregation: mean
    higher_is_better: true
  - metric: acc_norm
    aggregation: mean
    higher_is_better: true
YAML
echo "machine: $(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2- | xargs), family $(grep -m1 "cpu family" /proc/cpuinfo | cut -d: -f2 | xargs) model $(grep -m1 "^model\s" /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; lm_eval $(python3 -c 'import lm_eval; print(lm_eval.__version__)' 2>/dev/null || echo '?'), torch $(python3 -c 'import torch; print(torch.__version__)')"
for round in $(seq "$rounds"); do
    start=$(date +%s.%N)
    "$bip" eval --model "$model" --protocol lm-eval --tasks hellaswag --limit "$docs" --data "$data" --db "$work/bip-$round.sqlite" --json 2>/dev/null > "$work/bip.json"
    end=$(date +%s.%N)
    python3 -c 'import json, sys; r = json.load(open(sys.argv[1]))["tasks"]["hellaswag"]; t = float(sys.argv[3]) - float(sys.argv[2]); n = int(sys.argv[4])
print("round %s bip      %6.1f s wall, %5.2f docs/s; acc %.4f acc_norm %.4f" % (sys.argv[5], t, n / t, r["acc"], r["acc_norm"]))' "$work/bip.json" "$start" "$end" "$docs" "$round"
    start=$(date +%s.%N)
    HF_DATASETS_OFFLINE=1 HF_HUB_OFFLINE=1 lm_eval --model hf --model_args "pretrained=$work/model,dtype=float32" --device cpu \
        --include_path "$work/tasks" --tasks hellaswag_local --limit "$docs" --batch_size "$lm_batch" --output_path "$work/lm-$round" > "$work/lm.txt" 2>&1
    end=$(date +%s.%N)
    python3 -c 'import glob, json, sys; r = json.load(open(sorted(glob.glob(sys.argv[1] + "/**/results_*.json", recursive=True))[-1]))["results"]["hellaswag_local"]
t = float(sys.argv[3]) - float(sys.argv[2]); n = int(sys.argv[4])
print("round %s lm_eval  %6.1f s wall, %5.2f docs/s; acc %.4f acc_norm %.4f (batch %s)" % (sys.argv[5], t, n / t, r["acc,none"], r["acc_norm,none"], sys.argv[6]))' "$work/lm-$round" "$start" "$end" "$docs" "$round" "$lm_batch"
done
