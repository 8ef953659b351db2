#!/usr/bin/env python3
"""Writes the small seed files of bip's fuzz targets that no real file provides: tiny GGUF
models (every tensor type bip dequantizes, a byte-level tokenizer in the metadata) and a tune
checkpoint. Usage: fuzz-seeds.py CORPUS_ROOT (writes CORPUS_ROOT/gguf/*, CORPUS_ROOT/checkpoint/*)."""
import json, os, random, struct, sys

root = sys.argv[1]
rng = random.Random(17)

def gguf_string(s):
    b = s.encode()
    return struct.pack('<Q', len(b)) + b

def gguf_value(v):
    # (type id, payload) for the metadata types the seeds use
    if isinstance(v, bool): return 7, struct.pack('<B', v)
    if isinstance(v, int): return 4, struct.pack('<I', v)
    if isinstance(v, float): return 6, struct.pack('<f', v)
    if isinstance(v, str): return 8, gguf_string(v)
    if isinstance(v, list):
        t = gguf_value(v[0])[0]
        return 9, struct.pack('<IQ', t, len(v)) + b''.join(gguf_value(x)[1] for x in v)
    raise TypeError(v)

# type id -> (elements per block, bytes per block)
TYPES = {'F32': (0, 1, 4), 'F16': (1, 1, 2), 'Q4_0': (2, 32, 18), 'Q4_1': (3, 32, 20), 'Q5_0': (6, 32, 22),
         'Q5_1': (7, 32, 24), 'Q8_0': (8, 32, 34), 'Q2_K': (10, 256, 84), 'Q3_K': (11, 256, 110),
         'Q4_K': (12, 256, 144), 'Q5_K': (13, 256, 176), 'Q6_K': (14, 256, 210), 'BF16': (30, 1, 2)}

def tensor_bytes(type_name, count):
    tid, per, size = TYPES[type_name]
    if type_name == 'F32': return b''.join(struct.pack('<f', rng.uniform(-1, 1)) for _ in range(count))
    if type_name == 'F16': return b''.join(struct.pack('<e', rng.uniform(-1, 1)) for _ in range(count))
    if type_name == 'BF16': return b''.join(struct.pack('<f', rng.uniform(-1, 1))[2:] for _ in range(count))
    out = bytearray(rng.getrandbits(8) for _ in range(count // per * size))
    # keep the f16 scales small and finite: the first two bytes of every block
    for b in range(count // per):
        out[b * size:b * size + 2] = struct.pack('<e', rng.uniform(0, 0.01))
    return bytes(out)

def gguf(metadata, tensors, alignment=32):
    head = b'GGUF' + struct.pack('<IQQ', 3, len(tensors), len(metadata))
    for k, v in metadata.items():
        t, payload = gguf_value(v)
        head += gguf_string(k) + struct.pack('<I', t) + payload
    data, offset = b'', 0
    for name, type_name, dims in tensors:
        count = 1
        for d in dims: count *= d
        head += gguf_string(name) + struct.pack('<I', len(dims)) + b''.join(struct.pack('<Q', d) for d in dims)
        head += struct.pack('<IQ', TYPES[type_name][0], offset)
        blob = tensor_bytes(type_name, count)
        blob += b'\0' * (-len(blob) % alignment)
        data += blob
        offset += len(blob)
    head += b'\0' * (-len(head) % alignment)
    return head + data

def byte_unicode():
    keep = list(range(ord('!'), ord('~') + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    mapping, n = {}, 0
    for b in range(256):
        if b in keep: mapping[b] = chr(b)
        else: mapping[b] = chr(256 + n); n += 1
    return mapping

def tokenizer_metadata():
    m = byte_unicode()
    tokens = [m[b] for b in range(256)]
    merges = ['h e', 'l l', 'he ll', 'hell o', '\u0120 w', 'o r', '\u0120w or', 'l d', '\u0120wor ld']
    for merge in merges: tokens.append(merge.replace(' ', ''))
    tokens += ['<|endoftext|>', '<|im_start|>', '<|im_end|>']
    types = [1] * (len(tokens) - 3) + [3, 3, 3]
    return {'tokenizer.ggml.model': 'gpt2', 'tokenizer.ggml.pre': 'smollm', 'tokenizer.ggml.tokens': tokens,
            'tokenizer.ggml.merges': merges, 'tokenizer.ggml.token_type': types,
            'tokenizer.ggml.bos_token_id': len(tokens) - 2, 'tokenizer.ggml.eos_token_id': len(tokens) - 1}, len(tokens)

os.makedirs(f'{root}/gguf', exist_ok=True)
tok, vocab = tokenizer_metadata()
hidden, ffn, heads, kv = 32, 64, 4, 2
arch = {'general.architecture': 'llama', 'llama.block_count': 1, 'llama.embedding_length': hidden,
        'llama.attention.head_count': heads, 'llama.attention.head_count_kv': kv, 'llama.feed_forward_length': ffn,
        'llama.context_length': 64, 'llama.rope.freq_base': 10000.0, 'llama.attention.layer_norm_rms_epsilon': 1e-5}
kvdim = hidden // heads * kv
model = [('token_embd.weight', 'Q8_0', [hidden, vocab]), ('blk.0.attn_norm.weight', 'F32', [hidden]),
         ('blk.0.attn_q.weight', 'Q4_0', [hidden, hidden]), ('blk.0.attn_k.weight', 'Q4_1', [hidden, kvdim]),
         ('blk.0.attn_v.weight', 'Q5_0', [hidden, kvdim]), ('blk.0.attn_output.weight', 'Q5_1', [hidden, hidden]),
         ('blk.0.ffn_norm.weight', 'F32', [hidden]), ('blk.0.ffn_gate.weight', 'F16', [hidden, ffn]),
         ('blk.0.ffn_up.weight', 'BF16', [hidden, ffn]), ('blk.0.ffn_down.weight', 'Q8_0', [ffn, hidden]),
         ('output_norm.weight', 'F32', [hidden])]
with open(f'{root}/gguf/tiny-llama.gguf', 'wb') as f: f.write(gguf({**arch, **tok}, model))
kquants = [(f'k.{t}', t, [256, 2]) for t in ['Q2_K', 'Q3_K', 'Q4_K', 'Q5_K', 'Q6_K']]
with open(f'{root}/gguf/k-quants.gguf', 'wb') as f: f.write(gguf({'general.alignment': 64}, kquants, alignment=64))

# A tune checkpoint for TuningOptions() (the defaults): one adapter pair of rank 8 on 4 inputs.
os.makedirs(f'{root}/checkpoint', exist_ok=True)
rank, n = 8, 8 * 4 + 8 * 4
metadata = {'step': 3, 'valuesFile': 'values.bin', 'options': {}, 'rank': rank, 'alpha': 16.0,
            'adapters': [{'layer': 0, 'projection': 'qkv', 'rows': [0, 4], 'inFeatures': 4, 'offsetA': 0, 'offsetB': 32}],
            'optimizerSteps': 3, 'parameters': n, 'bestStep': 2, 'bestLoss': 2.5,
            'trainingLosses': [[1, 3.0], [2, 2.75], [3, 2.5]], 'heldOutLosses': [[2, 2.5]]}
values = b''.join(struct.pack('<f', rng.uniform(-1, 1)) for _ in range(4 * n))
with open(f'{root}/checkpoint/seed', 'wb') as f: f.write(json.dumps(metadata).encode() + b'\0' + values)
