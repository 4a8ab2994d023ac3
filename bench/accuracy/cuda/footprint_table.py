#!/usr/bin/env python3
"""Prints the CUDA oracle's footprint table (bench/accuracy/cuda/README.md): per case, the GPU
memory nvidia-smi showed in use while the model and its context were held, llama.cpp's CUDA0
buffers (model + KV + compute) and the difference, which those buffers do not show.

  python3 bench/accuracy/cuda/footprint_table.py bench/accuracy/cuda/footprint-*.jsonl
"""
import json
import sys

print("| model | settings | decoded | nvidia-smi MiB | CUDA0 buffers MiB | outside buffers MiB |")
print("|---|---|---|---:|---:|---:|")
for path in sys.argv[1:]:
    for line in open(path):
        r = json.loads(line)
        llama = r["llama"]
        gpu = sum(b["bytes"] for key in ("model_buffers", "kv_buffers", "output_buffers")
                  for b in llama[key] if b["buffer"] == "CUDA0")
        compute = llama["compute_buffers_precise"] or llama["compute_buffers"]
        gpu += sum(b["bytes"] for b in compute if b["buffer"] == "CUDA0")
        args = r["args"]  # the driver's arguments: a later one overrides an earlier one
        given = {}
        for key, value in zip(args[::2], args[1::2]):
            given[key] = value
        decode = given.pop("--decode", "0")
        given.pop("--hold-ms", None)
        settings = " ".join(f"{k} {v}" for k, v in given.items())
        held = r["gpu_used_held_mib"]
        print(f"| {r['gguf']} | {settings} | {decode if r['decoded'] else 'no'} | {held} | "
              f"{gpu / 2**20:.0f} | {held - gpu / 2**20:.0f} |")
