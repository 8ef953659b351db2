#!/usr/bin/env python3
"""PyTorch's side of `bip bench`: the perplexity workload (batches of windows from position 0,
the log-probability of every next token) through Hugging Face transformers on the same model
directory (`bip convert`), on CPU with a fixed number of threads. Prints one JSON line.

    python3 benchmarks/pytorch-forward.py MODEL_DIR IDS_JSON --batch 8 --seq-len 128 --seconds 20 [--dtype bfloat16]

IDS_JSON is `bip tokenize --json` output ({"ids": [...]}); windows of --seq-len ids are taken from
it in order and reused cyclically, as `bip bench` does with WikiText2. Benchmarks only; not run in CI.
"""
import json, time

import torch
from transformers import AutoModelForCausalLM

import forward_workload


def main():
    parser = forward_workload.arguments("a Hugging Face model directory (`bip convert`)")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--dtype", choices=["float32", "bfloat16"], default="float32")
    parser.add_argument("--layers", type=int, help="keep only the first N decoder layers")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    dtype = getattr(torch, args.dtype)
    model = AutoModelForCausalLM.from_pretrained(args.model, dtype=dtype)
    if args.layers is not None:
        model.model.layers = model.model.layers[: args.layers]
        model.config.num_hidden_layers = args.layers
    model.eval()
    windows = forward_workload.windows(args.ids_json, args.seq_len)

    position = 0

    def next_batch():
        nonlocal position
        rows = [windows[(position + b) % len(windows)] for b in range(args.batch)]
        position += args.batch
        return torch.tensor(rows, dtype=torch.long)

    def run(batch):
        logits = model(batch, use_cache=False).logits[:, :-1].float()
        return torch.log_softmax(logits, dim=-1).gather(-1, batch[:, 1:, None])

    with torch.inference_mode():
        run(next_batch())  # warm-up
        tokens, elapsed = 0, 0.0
        while elapsed < args.seconds:
            batch = next_batch()
            start = time.perf_counter()
            run(batch)
            elapsed += time.perf_counter() - start
            tokens += batch.numel()
    print(json.dumps({"torch": torch.__version__, "dtype": args.dtype, "threads": args.threads,
                      "batch": args.batch, "seq_len": args.seq_len, "tokens": tokens,
                      "elapsed": elapsed, "tokens_per_second": tokens / elapsed}))


if __name__ == "__main__":
    main()
