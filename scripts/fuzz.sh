#!/usr/bin/env bash
# Coverage-guided fuzzing of the files bip reads (issue 17), with libFuzzer and AddressSanitizer.
#
#   scripts/fuzz.sh build [TARGET...]     build the targets (default: all) into .build-fuzz/fuzz/TARGET
#   scripts/fuzz.sh run TARGET [SECONDS]  fuzz one target (default 60 s) on its corpus
#   scripts/fuzz.sh smoke [SECONDS [TARGET...]]  every target (or those named) for SECONDS (default 20) each
#   scripts/fuzz.sh targets               list the targets
#
# The project's modules are built once, optimised (FUZZ_CONFIGURATION=debug: not), with
# `-sanitize=fuzzer,address` into .build-fuzz (the normal .build, `swift build` and `swift test` are
# untouched); each target is Fuzz/TARGET.swift plus Fuzz/Support, linked with the objects of the
# module it imports and of everything that module depends on (scripts/fuzz-link-args.py reads them
# from the build's manifest: for Harness, GRDB and postgres-nio's tree with its C modules). Corpora live in
# .build-fuzz/corpus/TARGET (not committed), seeded from the real files and fixtures; crashing
# inputs are written to .build-fuzz/findings/TARGET. Reads $BIP_DATA, the fixtures beside it
# ($BIP_FIXTURES) and $BIP_HOME (default ~/.cache/bip): the byte-level target's tokenizer is
# SmolLM2's (`bip models fetch smollm2-135m`), pruned models there seed the config targets.
set -euo pipefail
cd "$(dirname "$0")/.."

SCRATCH=.build-fuzz
DATA=${BIP_DATA:-/work/shared/data}
FIXTURES=${BIP_FIXTURES:-$(dirname "$DATA")/fixtures}
HOME_DIR=${BIP_HOME:-$HOME/.cache/bip}
MODELS=$HOME_DIR/models
TIMEOUT=${FUZZ_TIMEOUT:-10}      # seconds per input
RSS_LIMIT=${FUZZ_RSS_MB:-2048}   # MB
MAX_LEN=${FUZZ_MAX_LEN:-65536}   # bytes per generated input
CONFIGURATION=${FUZZ_CONFIGURATION:-release}  # or debug (unoptimised: several times fewer inputs per second)
case "$CONFIGURATION" in release) OPTIMIZATION=-O ;; debug) OPTIMIZATION=-Onone ;;
    *) echo "FUZZ_CONFIGURATION is release or debug" >&2; exit 2 ;; esac

TARGETS=(gguf safetensors hfconfig tokenizerjson bytelevel sentencepiece tasks sweepconfig baseline checkpoint)

# The module each target imports (the one it is linked against, with everything that module depends on).
module() {
    case "$1" in
        gguf|safetensors|hfconfig|tokenizerjson|bytelevel|sentencepiece) echo Runtime ;;
        tasks) echo Tasks ;;
        checkpoint) echo Gradients ;;
        sweepconfig|baseline) echo Harness ;;
        *) echo "unknown target '$1' (targets: ${TARGETS[*]})" >&2; exit 2 ;;
    esac
}

build() {
    local targets=("$@")
    [ ${#targets[@]} -gt 0 ] || targets=("${TARGETS[@]}")
    # Only the modules the targets import (Harness pulls in GRDB and postgres-nio's whole tree).
    local module built=" "
    for target in "${targets[@]}"; do
        module=$(module "$target")
        case "$built" in *" $module "*) continue ;; esac
        nice -n 5 swift build -c "$CONFIGURATION" --scratch-path "$SCRATCH" -Xswiftc -sanitize=fuzzer,address --target "$module"
        built="$built$module "
    done
    mkdir -p "$SCRATCH/fuzz"
    for target in "${targets[@]}"; do
        # The module's clang flags, its objects and those of every module it depends on (from the
        # build's manifest), and the libraries.
        local link_args
        mapfile -t link_args < <(python3 scripts/fuzz-link-args.py "$SCRATCH/$CONFIGURATION.yaml" "$(module "$target")")
        echo "linking $target" >&2
        nice -n 5 swiftc -sanitize=fuzzer,address -parse-as-library "$OPTIMIZATION" -g -module-name "fuzz_$target" \
            Fuzz/Support/*.swift "Fuzz/$target.swift" "${link_args[@]}" \
            -o "$SCRATCH/fuzz/$target" 2> >(grep -v "Cannot export local symbol" >&2)
    done
}

# Copies up to 64 KB of each file into the corpus (the fuzzer works on small inputs).
seed() {
    local dir=$1; shift
    for file in "$@"; do
        [ -f "$file" ] || continue
        head -c "$MAX_LEN" "$file" > "$dir/$(echo "$file" | tr '/' '_')"
    done
}

# The seed corpus of each target: the repository's own files, the fixtures, a line or two of
# every data set, the tiny models and checkpoint of scripts/fuzz-seeds.py.
corpus() {
    local target=$1 dir=$SCRATCH/corpus/$1
    [ -d "$dir" ] && return
    mkdir -p "$dir"
    case "$target" in
        gguf|checkpoint)
            python3 scripts/fuzz-seeds.py "$SCRATCH/corpus-seeds"
            cp "$SCRATCH/corpus-seeds/$target"/* "$dir/" ;;
        safetensors)
            python3 - "$dir" <<'PY'
import json, struct, sys
def file(tensors, data):
    header = json.dumps(tensors).encode(); header += b' ' * (-len(header) % 8)
    return struct.pack('<Q', len(header)) + header + data
open(sys.argv[1] + '/f32-f16-bf16', 'wb').write(file({
    '__metadata__': {'format': 'pt'},
    'a': {'dtype': 'F32', 'shape': [2, 3], 'data_offsets': [0, 24]},
    'b': {'dtype': 'F16', 'shape': [4], 'data_offsets': [24, 32]},
    'c': {'dtype': 'BF16', 'shape': [2, 2], 'data_offsets': [32, 40]}}, bytes(range(40))))
PY
            ;;
        hfconfig) seed "$dir" "$HOME_DIR"/pruned/*/config.json
            echo '{"architectures":["LlamaForCausalLM"],"hidden_size":64,"intermediate_size":128,"num_attention_heads":4,"num_key_value_heads":2,"num_hidden_layers":2,"vocab_size":300,"rms_norm_eps":1e-5,"rope_theta":10000,"max_position_embeddings":256,"tie_word_embeddings":true}' > "$dir/small" ;;
        tokenizerjson) seed "$dir" "$HOME_DIR"/pruned/*/tokenizer_config.json
            echo '{"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b"]},"pre_tokenizer":{"type":"ByteLevel"},"added_tokens":[]}' > "$dir/small" ;;
        bytelevel|sentencepiece)
            seed "$dir" "$FIXTURES/llama-spm/ggml-vocab-llama-spm.gguf.inp" "$FIXTURES/smollm2/tokenizer-cases.json"
            head -c 4096 "$DATA/wikitext2/wikitext-2-raw-v1.test.jsonl" > "$dir/wikitext2" ;;
        tasks)
            local i=0
            for file in wikitext2/wikitext-2-raw-v1.test.jsonl ptb/ptb.valid.txt boolq/val.jsonl piqa/valid.jsonl \
                        hellaswag/hellaswag_val.jsonl winogrande/winogrande_xl_validation.jsonl arc/ARC-Easy-Test.jsonl \
                        arc/ARC-Challenge-Test.jsonl openbookqa/test.jsonl; do
                { printf "\\x$(printf %02x $i)"; head -n 2 "$DATA/$file"
                  [ "$file" = piqa/valid.jsonl ] && { printf '\0'; head -n 2 "$DATA/piqa/valid-labels.lst"; }
                } > "$dir/$i"
                i=$((i + 1))
            done ;;
        sweepconfig) seed "$dir" reports/*/sweep.json reports/ci-sweep.json ;;
        baseline) seed "$dir" reports/baseline.json ;;
    esac
}

run() {
    local target=$1 seconds=${2:-60}
    module "$target" > /dev/null
    [ -x "$SCRATCH/fuzz/$target" ] || { echo "build first: scripts/fuzz.sh build" >&2; exit 2; }
    corpus "$target"
    mkdir -p "$SCRATCH/findings/$target"
    # The vocabularies come from the real files; a smaller -rss_limit_mb would count them.
    BIP_FUZZ_BYTELEVEL_GGUF=$MODELS/SmolLM2-135M-Instruct.Q4_1.gguf \
    BIP_FUZZ_SENTENCEPIECE_GGUF=$FIXTURES/llama-spm/ggml-vocab-llama-spm.gguf \
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0} SWIFT_BACKTRACE=enable=no \
    nice -n 10 "$SCRATCH/fuzz/$target" "$SCRATCH/corpus/$target" \
        -max_total_time="$seconds" -timeout="$TIMEOUT" -rss_limit_mb="$RSS_LIMIT" -malloc_limit_mb="$RSS_LIMIT" \
        -max_len="$MAX_LEN" -print_final_stats=1 -artifact_prefix="$SCRATCH/findings/$target/"
}

case "${1:-}" in
    build) shift; build "$@" ;;
    run) [ $# -ge 2 ] || { echo "usage: $0 run TARGET [SECONDS]" >&2; exit 2; }; run "$2" "${3:-60}" ;;
    smoke) seconds=${2:-20}; shift $(( $# < 2 ? $# : 2 )); smoke_targets=("$@")
           [ ${#smoke_targets[@]} -gt 0 ] || smoke_targets=("${TARGETS[@]}")
           for target in "${smoke_targets[@]}"; do echo "== $target" >&2; run "$target" "$seconds"; done ;;
    targets) printf '%s\n' "${TARGETS[@]}" ;;
    *) sed -n '2,8p' "$0" >&2; exit 2 ;;
esac
