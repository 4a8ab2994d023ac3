#!/usr/bin/env python3
"""Writes the CUDA oracle's grids (scripts/oracle/cuda/README.md):

- grid-cuda.json: real catalog models at the settings people run (n_ctx 8192 and 32768, ubatch 512): layers on
  the GPU all / about half / none, flash attention on and off, mmap off, op offload off, a q8_0
  cache and four sequences, and --n-cpu-moe on the two MoE models (qwen3:30b-a3b, gpt-oss:20b);
- grid-cuda-more.json: a second run, seven more models (llama3.2:3b, qwen2.5:7b,
  mistral-nemo:12b, phi3:14b, gemma2:9b, granite3.3:8b, deepseek-coder-v2:16b), all / half / no
  layers, a 2048-token batch, n_ctx 32768, --n-cpu-moe on the MoE one;
- grid-cuda-shapes.json: the Vulkan oracle's 72 cases on its four small models (scripts/oracle/vulkan/make_grid.py),
  so that one case can be compared across the two backends.

A case is what scripts/oracle/vulkan/make_grid.py describes (ngl counts the output layer; -1 or
n_layer + 1 = all).
"""
import importlib.util
import sys
import json
import pathlib

HERE = pathlib.Path(__file__).resolve().parent
sys.dont_write_bytecode = True  # no __pycache__ beside the Vulkan grid script
_spec = importlib.util.spec_from_file_location("vulkan_grid", HERE.parent / "vulkan/make_grid.py")
vulkan_grid = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(vulkan_grid)


def case(ngl, ctx=8192, fa=True, mmap=True, op_offload=True, n_cpu_moe=0, seqs=1, kv="f16"):
    c = {"ngl": ngl, "ctx": ctx, "ubatch": 512, "fa": fa, "mmap": mmap,
         "op_offload": op_offload, "n_cpu_moe": n_cpu_moe}
    if seqs != 1:
        c["seqs"] = seqs
    if kv != "f16":
        c["type_k"] = c["type_v"] = kv
    return c


def dense(n_layer, extra=()):
    total = n_layer + 1
    cases = [case(ngl, fa=fa) for ngl in (total, n_layer // 2, 0) for fa in (True, False)]
    cases += [case(n_layer // 2, mmap=False), case(n_layer // 2, op_offload=False),
              case(total, ctx=32768)]
    return cases + list(extra)


def moe(n_layer, cpu_moe):
    total = n_layer + 1
    cases = [case(total), case(total, fa=False), case(n_layer // 2),
             case(n_layer // 2, op_offload=False), case(total, ctx=32768)]
    cases += [case(total, n_cpu_moe=n) for n in cpu_moe]
    cases += [case(total, fa=False, n_cpu_moe=cpu_moe[1]),
              case(total, mmap=False, n_cpu_moe=cpu_moe[1]),
              case(total, op_offload=False, n_cpu_moe=cpu_moe[1])]
    return cases


def real_grid():
    return [
        {"model": "llama3.1:8b", "cases": dense(32, [case(33, kv="q8_0"),
                                                      case(33, ctx=32768, seqs=4)])},
        {"model": "qwen3:8b", "cases": dense(36)},
        {"model": "gemma3:12b", "cases": dense(48)},
        {"model": "qwen3:30b-a3b", "cases": moe(48, (12, 24, 48))},
        {"model": "gpt-oss:20b", "cases": moe(24, (6, 12, 24))},
    ]


def more_grid():
    """A second run on the same machine: more architectures, a 2048-token batch."""
    def few(n_layer):
        total = n_layer + 1
        return [case(total), case(total, fa=False), case(n_layer // 2), case(0),
                case(total, ctx=32768), dict(case(total), ubatch=2048)]
    moe_cases = [case(28), case(28, fa=False), case(13), case(13, op_offload=False),
                 case(28, n_cpu_moe=8), case(28, n_cpu_moe=27)]
    return [{"model": "llama3.2:3b", "cases": few(28)},
            {"model": "qwen2.5:7b", "cases": few(28)},
            {"model": "mistral-nemo:12b", "cases": few(40)},
            {"model": "phi3:14b", "cases": few(40)},
            {"model": "gemma2:9b", "cases": few(42)},
            {"model": "granite3.3:8b", "cases": few(40)},
            {"model": "deepseek-coder-v2:16b", "cases": moe_cases}]


if __name__ == "__main__":
    for name, grid in (("grid-cuda.json", real_grid()),
                       ("grid-cuda-shapes.json", vulkan_grid.full_grid()),
                       ("grid-cuda-more.json", more_grid())):
        text = "[\n" + ",\n".join(
            f'  {{"model": "{e["model"]}", "cases": [\n' +
            ",\n".join("    " + json.dumps(c) for c in e["cases"]) + "\n  ]}"
            for e in grid) + "\n]\n"
        (HERE / name).write_text(text)
        print(f"{name}: {sum(len(e['cases']) for e in grid)} cases")
