#!/usr/bin/env python3
"""llama.cpp's side of `bip bench` at batch 1: the perplexity workload (windows from position 0,
logits at every position, the log-probability of every next token) through llama-cpp-python on
the same GGUF file bip reads, on CPU with a fixed number of threads. llama.cpp computes with the
file's own types (quantized dot products for a Q4_1 file), where bip dequantizes to Float32 on
load: the same model, each tool's own arithmetic. The log-softmax is numpy's (Float64), so the
JSON also gives the rate of llama.cpp's forward alone. Prints one JSON line.

    python3 benchmarks/llama-cpp-forward.py MODEL.gguf IDS_JSON --seq-len 128 --seconds 20

IDS_JSON is `bip tokenize --json` output; windows are taken as pytorch-forward.py takes them.
Benchmarks only; not run in CI.
"""
import json, time

import numpy as np
import llama_cpp
from llama_cpp import Llama

import forward_workload


def main():
    args = forward_workload.arguments("the GGUF file bip reads").parse_args()

    model = Llama(model_path=args.model, n_ctx=args.seq_len, n_batch=args.seq_len, n_ubatch=args.seq_len,
                  n_threads=args.threads, n_threads_batch=args.threads, logits_all=True, verbose=False)
    windows = forward_workload.windows(args.ids_json, args.seq_len)

    def run(window):
        model.reset()
        start = time.perf_counter()
        model.eval(window)
        timings["eval"] += time.perf_counter() - start
        logits = np.asarray(model.scores[: len(window) - 1], dtype=np.float64)
        shifted = logits - logits.max(axis=1, keepdims=True)
        logprobs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        return logprobs[np.arange(len(window) - 1), window[1:]].sum()

    timings = {"eval": 0.0}
    run(windows[0])  # warm-up
    timings["eval"] = 0.0
    tokens, elapsed, position = 0, 0.0, 1
    while elapsed < args.seconds:
        window = windows[position % len(windows)]
        position += 1
        start = time.perf_counter()
        run(window)
        elapsed += time.perf_counter() - start
        tokens += len(window)
    print(json.dumps({"llama_cpp": llama_cpp.__version__, "threads": args.threads, "batch": 1, "seq_len": args.seq_len,
                      "tokens": tokens, "elapsed": elapsed, "tokens_per_second": tokens / elapsed,
                      "eval_only_tokens_per_second": tokens / timings["eval"]}))


if __name__ == "__main__":
    main()
