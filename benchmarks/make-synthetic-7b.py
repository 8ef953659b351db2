#!/usr/bin/env python3
"""Writes a synthetic LLaMA-7B-shaped Hugging Face directory with BF16 weights (random normal
values, std 0.02; norms 1), in two shards with model.safetensors.index.json, for measuring what a
7B load costs (BENCHMARKS.md). The tokenizer is the real LLaMA vocabulary from the shared
fixtures, as tokenizer.gguf. Needs numpy; about 13.5 GB of disk. Not run in CI.

    python3 benchmarks/make-synthetic-7b.py OUT_DIR [--layers 32] [--tokenizer ../shared/fixtures/llama-spm/ggml-vocab-llama-spm.gguf]

--layers N writes only N decoder layers of the real shape (embeddings and LM head unchanged), for
measuring the forward speed at 7B shapes without the full 13.5 GB (4 layers: about 2 GB).
"""
import argparse, json, os, shutil, struct
import numpy as np

HIDDEN, FFN, HEADS, VOCAB = 4096, 11008, 32, 32000


def tensors(layers):
    yield "model.embed_tokens.weight", (VOCAB, HIDDEN)
    for l in range(layers):
        p = f"model.layers.{l}."
        yield p + "input_layernorm.weight", (HIDDEN,)
        for name in ("q_proj", "k_proj", "v_proj", "o_proj"):
            yield p + f"self_attn.{name}.weight", (HIDDEN, HIDDEN)
        yield p + "post_attention_layernorm.weight", (HIDDEN,)
        yield p + "mlp.gate_proj.weight", (FFN, HIDDEN)
        yield p + "mlp.up_proj.weight", (FFN, HIDDEN)
        yield p + "mlp.down_proj.weight", (HIDDEN, FFN)
    yield "model.norm.weight", (HIDDEN,)
    yield "lm_head.weight", (VOCAB, HIDDEN)


def write_shard(path, entries, rng):
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, shape in entries:
        size = int(np.prod(shape)) * 2
        header[name] = {"dtype": "BF16", "shape": list(shape), "data_offsets": [offset, offset + size]}
        offset += size
    raw = json.dumps(header).encode()
    raw += b" " * ((8 - len(raw) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)) + raw)
        for name, shape in entries:
            if len(shape) == 1:
                f.write(np.full(shape, 0x3F80, dtype="<u2").tobytes())   # 1.0
                continue
            for start in range(0, shape[0], 1024):
                rows = min(1024, shape[0] - start)
                block = (rng.standard_normal((rows, shape[1]), dtype=np.float32) * 0.02).view(np.uint32)
                f.write((block >> 16).astype("<u2").tobytes())


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--layers", type=int, default=32, help="decoder layers to write (default 32, as LLaMA-7B)")
    parser.add_argument("--tokenizer", default=os.path.join(here, "../../shared/fixtures/llama-spm/ggml-vocab-llama-spm.gguf"))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rng = np.random.default_rng(0)
    entries = list(tensors(args.layers))
    half = len(entries) // 2
    shards = [entries[:half], entries[half:]]
    weight_map = {}
    for i, shard in enumerate(shards):
        name = f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
        write_shard(os.path.join(args.out, name), shard, rng)
        weight_map.update({t: name for t, _ in shard})
        print("wrote", name, flush=True)
    with open(os.path.join(args.out, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {}, "weight_map": weight_map}, f)
    config = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": HIDDEN,
              "intermediate_size": FFN, "num_hidden_layers": args.layers, "num_attention_heads": HEADS,
              "num_key_value_heads": HEADS, "vocab_size": VOCAB, "rms_norm_eps": 1e-6, "rope_theta": 10000.0,
              "max_position_embeddings": 2048, "tie_word_embeddings": False, "torch_dtype": "bfloat16",
              "bos_token_id": 1, "eos_token_id": 2}
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    shutil.copy(args.tokenizer, os.path.join(args.out, "tokenizer.gguf"))


if __name__ == "__main__":
    main()
