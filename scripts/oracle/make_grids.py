#!/usr/bin/env python3
"""Writes the oracle's grid files (scripts/oracle/README.md, "Grids"): one JSON file per purpose.

  grid-full.json     the tuning grid: every family at real sizes, several quantizations
  grid-heldout.json  cases the formulas were NOT tuned on: whole models never looked at while
                     tuning, and context / ubatch values absent from grid-full.json
  grid-ci.json       a handful of quick cases for .ci/run's live check
  grid-families.json the catalog's remaining decoder families (gemma, olmo2, starcoder2,
                     internlm2), measured after their graphs were rebuilt
  grid-embedding.json EmbeddingGemma (gemma-embedding): no KV cache, so the cases vary the
                     context, the sequences, flash attention and the ubatch only
  grid-gemma3n.json  Gemma 3n E2B / E4B (gemma3n): KV in the first 20 blocks only, per-layer
                     embeddings; a few contexts, ubatches and caches, flash attention on/off
  grid-qwen3next.json Qwen3-Next 80B-A3B (qwen3next): KV in 12 of 48 blocks, recurrent state
                     in the other 36; one Q8_0 file (85 GB, all holes), small contexts

Regenerate with `python3 scripts/oracle/make_grids.py` (deterministic). Context sizes below are
llama.cpp's TOTAL n_ctx; the grid stores node-llama-cpp's per-sequence contextSize.
"""
import json
import pathlib

HERE = pathlib.Path(__file__).resolve().parent

# (flash attention, K type, V type): a quantised V cache needs flash attention.
COMBOS = [(False, "F16", "F16"), (False, "Q8_0", "F16"), (True, "F16", "F16"),
          (True, "Q8_0", "Q8_0"), (True, "Q4_0", "Q4_0")]


def case(n_ctx, par, fa, k, v, ub):
    assert n_ctx % par == 0
    return {"contextSize": n_ctx // par, "sequences": par, "flashAttention": fa, "ubatch": ub,
            "kvCacheKeyType": k, "kvCacheValueType": v}


def full_design(ctxs):
    """About 29 cases: every FA/cache combination at the smallest and largest context, the
    middle one with f16; 2 and 4 sequences over the largest context; ubatch 256 and 2048."""
    c1, c2, c3 = ctxs
    out = []
    for c in (c1, c3):
        out += [case(c, 1, fa, k, v, 512) for fa, k, v in COMBOS]
    out += [case(c2, 1, fa, "F16", "F16", 512) for fa in (False, True)]
    for par in (2, 4):
        out += [case(c3, par, fa, k, v, 512) for fa, k, v in COMBOS]
    for ub in (256, 2048):
        out += [case(c2, 1, fa, k, v, ub) for fa, k, v in COMBOS[0:1] + COMBOS[2:4]]
    out.append(case(c2, 2, True, "Q4_0", "Q4_0", 2048))
    return out


def small_design(ctxs):
    c1, c2 = ctxs
    return ([case(c1, 1, fa, k, v, 512) for fa, k, v in COMBOS[0:1] + COMBOS[2:4]] +
            [case(c2, 2, fa, k, v, 512) for fa, k, v in COMBOS[0:1] + COMBOS[2:4]] +
            [case(c1, 1, True, "F16", "F16", 2048)])


FULL = [
    ("llama3.1:8b-q8_0", full_design((2048, 8192, 32768))),        # llama GQA, untied
    ("llama2:7b-q5_K_M", full_design((2048, 4096, 8192))),         # llama MHA, vocab 32000
    ("llama3.2:3b-f16", full_design((2048, 8192, 32768))),         # llama, tied embeddings
    ("qwen2.5:7b-q8_0", full_design((2048, 8192, 65536))),         # qwen2: QKV biases
    ("qwen3:8b-q6_K", full_design((4096, 16384, 32768))),          # qwen3: q/k norms
    ("gemma2:9b-q8_0", full_design((2048, 8192, 16384))),          # gemma2: SWA, softcap
    ("gemma3:12b-q8_0", full_design((4096, 16384, 32768))),        # gemma3: SWA 5:1
    ("phi3:3.8b-q8_0", full_design((2048, 4096, 8192))),           # phi3: fused QKV, MHA
    ("qwen3:30b-q8_0", full_design((2048, 8192, 32768))),          # qwen3moe
    ("deepseek-coder-v2:16b-q8_0", full_design((4096, 16384, 65536))),  # deepseek2: MLA, MoE
    ("gpt-oss:20b-mxfp4_moe", full_design((4096, 16384, 32768))),  # gpt-oss: SWA + MoE
    ("mixtral:8x7b-q3_K_M", small_design((4096, 32768))),          # llama-arch MoE
    ("llama3.1:8b-q4_K_M", small_design((2048, 8192))),            # CPU_REPACK (Q4_K)
    ("llama3.2:3b-q4_0", small_design((2048, 8192))),              # CPU_REPACK (Q4_0)
]

def families_design(ctxs):
    """10 cases: small_design plus ubatch 256 with four sequences and a q8_0 K without FA."""
    c1, c2 = ctxs
    return small_design(ctxs) + [case(c2, 4, True, "F16", "F16", 256),
                                 case(c2, 2, False, "Q8_0", "F16", 512),
                                 case(c2, 2, True, "Q4_0", "Q4_0", 1024)]


FAMILIES = [
    ("gemma:2b-q8_0", families_design((2048, 8192))),         # gemma: MQA, scaled Q
    ("gemma:7b-q8_0", families_design((2048, 8192))),         # gemma: MHA, head 256
    ("olmo2:7b-q8_0", families_design((2048, 4096))),         # olmo2: post-norms only
    ("starcoder2:15b-q8_0", families_design((2048, 16384))),  # starcoder2: LayerNorm, GELU
    ("internlm2:7b-q8_0", families_design((2048, 32768))),    # internlm2
]

# gemma-embedding has no cache: the K/V types do not matter (left at F16).
EMBEDDING = [
    ("embeddinggemma:300m-f16",
     [case(n_ctx, par, fa, "F16", "F16", ub)
      for n_ctx, par in ((512, 1), (2048, 1), (2048, 2), (4096, 2))
      for fa in (False, True) for ub in (512, 2048) if ub <= n_ctx]),
]

# gemma3n (window 512, KV only in blocks 0-19): both sizes, the caches of COMBOS 0, 1, 2, 3.
GEMMA3N = [
    ("gemma3n:e2b-q8_0",
     [case(n_ctx, par, fa, k, v, ub)
      for n_ctx, par, ub in ((4096, 1, 512), (32768, 1, 512), (8192, 2, 2048))
      for fa, k, v in COMBOS[0:4]]),
    ("gemma3n:e4b-q4_K_M",
     [case(8192, 1, False, "F16", "F16", 512), case(8192, 1, True, "Q8_0", "Q8_0", 512),
      case(32768, 2, True, "F16", "F16", 1024)]),
]

# qwen3next (gated attention on every 4th block, Gated DeltaNet elsewhere): the 80B file is
# loaded once (mmap of 85 GB of holes), so few, small contexts; 2 sequences double the
# recurrent state.
QWEN3NEXT = [
    ("qwen3-next:80b-q8_0",
     [case(4096, 1, fa, k, v, 512) for fa, k, v in COMBOS[0:4]]
     + [case(8192, 2, fa, "F16", "F16", 512) for fa in (False, True)]
     + [case(16384, 1, True, "F16", "F16", 2048)]),
]

# Held out: ctx 12288 / 24576 and ubatch 1024 never occur in FULL; the four models never do.
HELD_OUT_CTX = (12288, 24576)


def heldout_design(fa_only=False):
    c1, c2 = HELD_OUT_CTX
    out = [case(c1, 1, fa, k, v, 1024) for fa, k, v in COMBOS[0:1] + COMBOS[2:4]]
    out += [case(c2, 2, fa, k, v, 512) for fa, k, v in COMBOS[1:2] + COMBOS[4:5]]
    out += [case(c2, 4, True, "F16", "F16", 256)]
    return out


HELDOUT = [
    ("mistral:7b-q8_0", heldout_design()),            # llama, vocab 32768
    ("qwen2.5:3b-q6_K", heldout_design()),            # qwen2, tied
    ("gemma3:4b-q8_0", heldout_design()),             # gemma3
    # phi3 medium: GQA + fused QKV. Its q4_0 cache case aborts this llama.cpp build (a ggml
    # assertion in ggml-impl.h), so it is left out.
    ("phi3:14b-q8_0", [c for c in heldout_design() if c["kvCacheKeyType"] != "Q4_0"]),
] + [(m, [case(12288, 1, False, "F16", "F16", 1024), case(24576, 2, True, "Q8_0", "Q8_0", 1024)])
     for m, _ in FULL[:11]]

CI = [
    ("llama3.2:3b-f16", [case(4096, 1, False, "F16", "F16", 512),
                         case(8192, 2, True, "Q8_0", "Q8_0", 512)]),
    ("qwen3:8b-q6_K", [case(8192, 1, True, "F16", "F16", 256)]),
    ("gemma3:12b-q8_0", [case(8192, 1, False, "F16", "F16", 512)]),
    ("phi3:3.8b-q8_0", [case(4096, 2, False, "Q8_0", "F16", 512)]),
    ("deepseek-coder-v2:16b-q8_0", [case(8192, 1, True, "Q8_0", "Q8_0", 512)]),
]


def write(name, models):
    grid = [{"model": m, "cases": cs} for m, cs in models]
    lines = ["["]
    for i, entry in enumerate(grid):
        lines.append(f'  {{"model": {json.dumps(entry["model"])}, "cases": [')
        lines += ["    " + json.dumps(c) + ("," if j + 1 < len(entry["cases"]) else "")
                  for j, c in enumerate(entry["cases"])]
        lines.append("  ]}" + ("," if i + 1 < len(grid) else ""))
    lines.append("]")
    (HERE / name).write_text("\n".join(lines) + "\n")
    return sum(len(cs) for _, cs in models)


if __name__ == "__main__":
    for name, models in (("grid-full.json", FULL), ("grid-heldout.json", HELDOUT),
                         ("grid-ci.json", CI), ("grid-families.json", FAMILIES),
                         ("grid-embedding.json", EMBEDDING), ("grid-gemma3n.json", GEMMA3N),
                         ("grid-qwen3next.json", QWEN3NEXT)):
        print(f"{name}: {write(name, models)} cases")
