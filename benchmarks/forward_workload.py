"""What the forward-throughput peers share (pytorch-forward.py, llama-cpp-forward.py): the common
command-line arguments and the windows of the perplexity workload, taken as `bip bench` takes
them."""
import argparse, json


def arguments(model_help):
    """A parser with the model path, IDS_JSON, --seq-len, --seconds and --threads."""
    parser = argparse.ArgumentParser()
    parser.add_argument("model", help=model_help)
    parser.add_argument("ids_json", help="`bip tokenize --json` output")
    parser.add_argument("--seq-len", type=int, default=128)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--threads", type=int, default=2)
    return parser


def windows(ids_json, seq_len):
    """Consecutive windows of `seq_len` ids from IDS_JSON, at most 512."""
    with open(ids_json) as f:
        ids = json.load(f)["ids"]
    found = [ids[i : i + seq_len] for i in range(0, len(ids) - seq_len + 1, seq_len)][:512]
    assert found, "too few ids for one window"
    return found
