#!/usr/bin/env python3
"""Writes the Vulkan oracle's grids (scripts/oracle/vulkan/README.md):

grid-vulkan.json  layers on the GPU (all / part / none) x flash attention x mmap, op offload
                  off at partial and zero offload, two sequences and a q8_0 cache at a partial
                  offload, --n-cpu-moe on the MoE shape;
grid-smoke.json   four quick cases;
grid-vulkan-multi.json  two and three Vulkan devices (the one lavapipe device listed several
                  times, GGML_VK_VISIBLE_DEVICES=0,0): every layer offloaded (pipeline
                  parallelism) with and without flash attention, two sequences, an uneven
                  split, part of the layers on the host with op offload on and off, and
                  --n-cpu-moe (a tensor override, so no pipeline parallelism).
grid-vulkan-archs.json  the architectures whose GPU plans were first measured here: the
                  no-cache encoders (bert, nomic-bert: catalog models; gemma-embedding: a
                  synthetic shape) with
                  every layer, half of them and none on the GPU, flash attention on and off,
                  mmap off, op offload off, and an n_ubatch of 2048 over a 512-token context
                  (an encoder's batch is not capped at n_ctx).
grid-vulkan-hybrid.json  the hybrid recurrent architectures (synthetic shapes, shapes.yaml):
                  granitehybrid (Mamba2 + attention) and qwen3next (Gated DeltaNet + gated
                  attention), both with routed experts: every layer, half and none on the GPU,
                  flash attention on and off, mmap off, op offload off, --n-cpu-moe, two
                  sequences (the recurrent state is one row per sequence) and an n_ubatch of
                  2048 over a 512-token context (capped at n_ctx: causal).
grid-vulkan-deepstack.json  Qwen3-VL's text models with DeepStack inputs (qwen3vl, qwen3vlmoe:
                  synthetic shapes) with every layer, half of them and none on the GPU, flash
                  attention on and off, mmap off, op offload off, an n_ubatch of 2048 over a
                  512-token context, and --n-cpu-moe on the MoE shape.
grid-vulkan-rope.json  a Llama 3.1-shaped model with rope_freqs.weight and a Phi-3-128k-shaped
                  one with LongRoPE's factors (shapes.yaml): every layer, half of them, the
                  output layer only and none on the GPU, flash attention on and off, mmap off
                  and op offload off;
grid-vulkan-multi-rope.json  the same models on two devices, every layer and half of them;
grid-vulkan-llama4-gemma3n.json  llama4 (synthetic shapes: experts on every block, and
                  interleaved on every second one) and gemma3n (a synthetic shape, 22 blocks
                  so that two read an earlier block's cache): every layer, half and none on the
                  GPU with flash attention on and off, mmap off, op offload off, an n_ubatch
                  of 2048 over a 512-token context (capped at n_ctx for these causal models),
                  and --n-cpu-moe on llama4.

A case: ngl (llama.cpp's n_gpu_layers, the output layer counts as one; -1 = all), ctx (n_ctx),
ubatch (n_batch = n_ubatch), fa, mmap, op_offload, n_cpu_moe, optionally seqs (n_seq_max) and
type_k / type_v (cache types), gpus (Vulkan devices, default 1) and split (llama.cpp's
tensor_split proportions; the grids name proportions whose cumulative fractions never equal a
layer's position exactly, so float and double rounding cannot place a layer differently). Without flash attention the ubatch
is lowered so that KQ (n_ctx x n_ubatch x n_head x 4 B) stays at or below 64 MiB: lavapipe
refuses tensors over 128 MiB and the scheduler would run those ops on the CPU, which a real GPU
does not do.
"""
import json
import pathlib

HERE = pathlib.Path(__file__).resolve().parent
MODELS = [  # (name, n_layer, n_head)
    ("tinyllama:1.1b-q8_0", 22, 32),
    ("vkqwen3:tiny-q8_0", 8, 16),
    ("vkqwen3moe:tiny-q8_0", 8, 16),
    ("vkgemma2:tiny-q8_0", 8, 8),
]
CTX = 2048


def case(ngl, fa=True, mmap=True, op_offload=True, n_cpu_moe=0, heads=16, seqs=1, kv="f16"):
    ubatch = 512
    while not fa and CTX * ubatch * heads * 4 > 64 * 2**20:
        ubatch //= 2
    c = {"ngl": ngl, "ctx": CTX, "ubatch": ubatch, "fa": fa, "mmap": mmap,
         "op_offload": op_offload, "n_cpu_moe": n_cpu_moe}
    if seqs != 1:
        c["seqs"] = seqs
    if kv != "f16":
        c["type_k"] = c["type_v"] = kv
    return c


def full_grid():
    grid = []
    for name, n_layer, heads in MODELS:
        total = n_layer + 1
        cases = []
        for ngl in (total, total // 2, 0):
            for fa in (True, False):
                for mmap in (True, False):
                    cases.append(case(ngl, fa, mmap, heads=heads))
        for ngl in (total // 2, 0):
            cases.append(case(ngl, True, True, op_offload=False, heads=heads))
        # two sequences (one KV stream each) and a q8_0 cache, at a partial offload
        cases.append(case(total // 2, True, False, heads=heads, seqs=2))
        cases.append(case(total // 2, True, False, heads=heads, kv="q8_0"))
        if "moe" in name:
            for n_cpu_moe in (2, 4, n_layer):
                for mmap in (True, False):
                    cases.append(case(total, True, mmap, n_cpu_moe=n_cpu_moe, heads=heads))
            cases.append(case(total, False, False, n_cpu_moe=4, heads=heads))
            cases.append(case(total, True, False, op_offload=False, n_cpu_moe=4, heads=heads))
        grid.append({"model": name, "cases": cases})
    return grid


def multi_grid():
    grid = []
    for name, n_layer, heads in MODELS:
        total = n_layer + 1

        def on(gpus, split, **kw):
            c = case(kw.pop("ngl", total), heads=heads, **kw)
            c["gpus"] = gpus
            c["split"] = split
            return c
        cases = [on(2, [1, 1]), on(2, [1, 1], fa=False), on(2, [1, 1], mmap=False),
                 on(2, [1, 1], seqs=2), on(2, [3, 1]),
                 on(2, [1, 1], ngl=total // 2), on(2, [1, 1], ngl=total // 2, fa=False),
                 on(2, [1, 1], ngl=total // 2, op_offload=False)]
        if n_layer % 3 != 0 and total % 3 != 0:
            cases.append(on(3, [1, 1, 1]))
        if "moe" in name:
            cases.append(on(2, [1, 1], n_cpu_moe=4))
        grid.append({"model": name, "cases": cases})
    return grid


# The encoders (no KV cache): (name, n_layer, n_head). The BERTs from the catalog in their own
# F16; gemma-embedding as a synthetic shape with a 32000-token vocabulary (shapes.yaml):
# embeddinggemma:300m's token embeddings, and so their tied output copy, pass lavapipe's
# 128 MiB limit, and llama.cpp would keep that copy on the CPU.
ENCODERS = [
    ("all-minilm:22m", 6, 12),
    ("nomic-embed-text:v1.5", 12, 12),
    ("vkgemmaembd:tiny-q8_0", 8, 4),
]
ENCODER_CTX = 512


def encoder_case(ngl, ubatch=512, fa=True, mmap=True, op_offload=True, heads=12):
    # Without flash attention KQ is n_ubatch x n_ubatch x n_head x 4 B (an encoder attends
    # over its batch): kept at or below 64 MiB as in case().
    while not fa and ubatch * ubatch * heads * 4 > 64 * 2**20:
        ubatch //= 2
    return {"ngl": ngl, "ctx": ENCODER_CTX, "ubatch": ubatch, "fa": fa, "mmap": mmap,
            "op_offload": op_offload, "n_cpu_moe": 0}


def archs_grid():
    grid = []
    for name, n_layer, heads in ENCODERS:
        total = n_layer + 1
        cases = []
        for ngl in (total, total // 2, 0):
            for fa in (True, False):
                cases.append(encoder_case(ngl, fa=fa, heads=heads))
        cases.append(encoder_case(total, mmap=False, heads=heads))
        cases.append(encoder_case(total // 2, mmap=False, heads=heads))
        for ngl in (total // 2, 0):
            cases.append(encoder_case(ngl, op_offload=False, heads=heads))
        cases.append(encoder_case(total, ubatch=2048, heads=heads))
        cases.append(encoder_case(total // 2, ubatch=2048, heads=heads))
        cases.append(encoder_case(total, ubatch=2048, fa=False, heads=heads))
        grid.append({"model": name, "cases": cases})
    return grid


# The hybrid recurrent shapes (shapes.yaml): (name, n_layer, n_head).
HYBRIDS = [
    ("vkgranitehybrid:tiny-q8_0", 8, 8),
    ("vkqwen3next:tiny-q8_0", 8, 8),
]


def hybrid_grid():
    grid = []
    for name, n_layer, heads in HYBRIDS:
        total = n_layer + 1
        half = total // 2
        cases = []
        for ngl in (total, half, 0):
            for fa in (True, False):
                cases.append(case(ngl, fa=fa, heads=heads))
        cases.append(case(total, mmap=False, heads=heads))
        cases.append(case(half, mmap=False, heads=heads))
        for ngl in (half, 0):
            cases.append(case(ngl, op_offload=False, heads=heads))
        for n_cpu_moe in (2, 8):
            cases.append(case(total, n_cpu_moe=n_cpu_moe, heads=heads))
        cases.append(case(total, n_cpu_moe=4, mmap=False, heads=heads))
        cases.append(case(total, seqs=2, heads=heads))
        cases.append(case(half, seqs=2, mmap=False, heads=heads))
        for ngl in (total, half):
            c = case(ngl, heads=heads)
            c.update(ctx=512, ubatch=2048)
            cases.append(c)
        grid.append({"model": name, "cases": cases})
    return grid


# Qwen3-VL's text models with DeepStack inputs (shapes.yaml: 8 blocks, n_deepstack_layers 3):
# (name, n_layer, n_head).
DEEPSTACK = [
    ("vkqwen3vl:tiny-q8_0", 8, 16),
    ("vkqwen3vlmoe:tiny-q8_0", 8, 16),
]


def deepstack_grid():
    grid = []
    for name, n_layer, heads in DEEPSTACK:
        total = n_layer + 1
        cases = []
        for ngl in (total, total // 2, 0):
            for fa in (True, False):
                cases.append(case(ngl, fa, heads=heads))
        for ngl in (total, total // 2):
            cases.append(case(ngl, mmap=False, heads=heads))
        for ngl in (total // 2, 0):
            cases.append(case(ngl, op_offload=False, heads=heads))
        # n_ubatch 2048 over a 512-token context: a causal model's batch is capped at n_ctx.
        for ngl, fa in ((total, True), (total // 2, True), (total, False)):
            c = case(ngl, fa, heads=heads)
            c["ctx"], c["ubatch"] = 512, 2048
            cases.append(c)
        if "moe" in name:
            for n_cpu_moe in (2, 4, n_layer):
                cases.append(case(total, n_cpu_moe=n_cpu_moe, heads=heads))
            cases.append(case(total, mmap=False, n_cpu_moe=4, heads=heads))
            cases.append(case(total, False, n_cpu_moe=4, heads=heads))
            cases.append(case(total, op_offload=False, n_cpu_moe=4, heads=heads))
        grid.append({"model": name, "cases": cases})
    return grid


# The rope frequency factors a file can carry, one copy per device holding a block and read by
# every block's ROPE: Llama 3.1's rope_freqs.weight and LongRoPE's rope_factors_long/short
# (synthetic llama and phi3 shapes with them, shapes.yaml).
ROPE = [("vkllama3:tiny-q8_0", 8, 16), ("vkphi3:tiny-q8_0", 8, 16)]


def rope_grid():
    grid = []
    for name, n_layer, heads in ROPE:
        total = n_layer + 1
        cases = []
        for ngl in (total, total // 2, 1, 0):
            for fa in (True, False):
                cases.append(case(ngl, fa, heads=heads))
        cases.append(case(total // 2, True, False, heads=heads))
        cases.append(case(total // 2, True, True, op_offload=False, heads=heads))
        grid.append({"model": name, "cases": cases})
    return grid


def rope_multi_grid():
    grid = []
    for name, n_layer, heads in ROPE:
        total = n_layer + 1
        cases = []
        for ngl in (total, total // 2):
            c = case(ngl, heads=heads)
            c["gpus"] = 2
            c["split"] = [1, 1]
            cases.append(c)
        grid.append({"model": name, "cases": cases})
    return grid


# llama4 and gemma3n (synthetic shapes, shapes.yaml): (name, n_layer, n_head, MoE).
LLAMA4_GEMMA3N = [
    ("vkllama4:tiny-q8_0", 8, 8, True),
    ("vkllama4il:tiny-q8_0", 8, 8, True),
    ("vkgemma3n:tiny-q8_0", 22, 4, False),
]


def llama4_gemma3n_grid():
    grid = []
    for name, n_layer, heads, moe in LLAMA4_GEMMA3N:
        total = n_layer + 1
        cases = []
        for ngl in (total, total // 2, 0):
            for fa in (True, False):
                cases.append(case(ngl, fa, heads=heads))
        cases.append(case(total, mmap=False, heads=heads))
        cases.append(case(total // 2, mmap=False, heads=heads))
        for ngl in (total // 2, 0):
            cases.append(case(ngl, op_offload=False, heads=heads))
        for ngl in (total, total // 2):
            c = case(ngl, heads=heads)
            c.update(ctx=512, ubatch=2048)
            cases.append(c)
        if moe:
            for n_cpu_moe in (2, 4, n_layer):
                cases.append(case(total, n_cpu_moe=n_cpu_moe, heads=heads))
            cases.append(case(total, mmap=False, n_cpu_moe=4, heads=heads))
            cases.append(case(total, False, n_cpu_moe=4, heads=heads))
        grid.append({"model": name, "cases": cases})
    return grid


def smoke_grid():
    return [
        {"model": "vkqwen3:tiny-q8_0", "cases": [case(9), case(4), case(4, mmap=False)]},
        {"model": "vkqwen3moe:tiny-q8_0", "cases": [case(9, n_cpu_moe=4)]},
    ]


def write(name, grid):
    text = "[\n" + ",\n".join(
        f'  {{"model": "{e["model"]}", "cases": [\n' +
        ",\n".join("    " + json.dumps(c) for c in e["cases"]) + "\n  ]}" for e in grid) + "\n]\n"
    (HERE / name).write_text(text)
    print(f"{name}: {sum(len(e['cases']) for e in grid)} cases")


if __name__ == "__main__":
    write("grid-vulkan.json", full_grid())
    write("grid-smoke.json", smoke_grid())
    write("grid-vulkan-multi.json", multi_grid())
    write("grid-vulkan-archs.json", archs_grid())
    write("grid-vulkan-hybrid.json", hybrid_grid())
    write("grid-vulkan-deepstack.json", deepstack_grid())
    write("grid-vulkan-rope.json", rope_grid())
    write("grid-vulkan-multi-rope.json", rope_multi_grid())
    write("grid-vulkan-llama4-gemma3n.json", llama4_gemma3n_grid())
