#!/usr/bin/env python3
"""Regenerates docs/accuracy.md from the committed oracle data (bench/accuracy/data, and
bench/accuracy/vulkan for the "Vulkan (lavapipe)" section, bench/accuracy/cuda for "CUDA").

  python3 scripts/oracle/report.py [--build build] [--out docs/accuracy.md]

vramplan's predictions come from the accuracy unit test itself (tests/accuracy/accuracy_test.cpp,
run with VRAMPLAN_ACCURACY_OUT set), so the document and the test can never disagree. Needs a
built `vramplan_tests`; no npm, no GGUFs.
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
MiB = 1 << 20

FAMILY = {  # the catalog model's role in the grid
    "llama": "llama", "qwen2": "qwen2", "qwen3": "qwen3", "qwen3moe": "qwen3moe (MoE)",
    "gemma2": "gemma2 (SWA)", "gemma3": "gemma3 (SWA)", "phi3": "phi3 (fused QKV)",
    "deepseek2": "deepseek2 (MLA + MoE)", "gpt-oss": "gpt-oss (SWA + MoE)",
    "gemma3n": "gemma3n (AltUp, per-layer inputs)",
    "qwen3next": "qwen3next (Gated DeltaNet hybrid)",
    "granitehybrid": "granitehybrid (Mamba2 hybrid)",
    "phi2": "phi2 (parallel attention + FFN)", "qwen25vl": "qwen25vl (text, M-RoPE)",
    "qwen3vl": "qwen3vl (text, M-RoPE)", "bert": "bert (encoder)",
    "nomic-bert": "nomic-bert (encoder)",
}


def predictions(build):
    binary = pathlib.Path(build) / "bin" / "vramplan_tests"
    with tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False) as f:
        out = f.name
    env = dict(os.environ, VRAMPLAN_ACCURACY_OUT=out)
    run = subprocess.run([str(binary), "--gtest_filter=Accuracy*"], env=env,
                         capture_output=True, text=True)
    summary = [l for l in run.stdout.splitlines() if l.startswith("[accuracy]")]
    cases = [json.loads(l) for l in open(out) if l.strip()]
    os.unlink(out)
    return cases, summary, run.returncode


def fmt_mib(b):
    return f"{b / MiB:.2f}"


def row_values(c):
    m, p, e = c["measured"], c["vramplan"], c["node_llama_cpp"]
    ctx_meas = m["kv"] + m["compute"] + m["output"]
    ctx_pred = p["kv"] + p["compute"] + p["output"]
    comp_meas = m["compute"] + m["output"]
    comp_pred = p["compute"] + p["output"]
    return {
        "ctx_meas": ctx_meas, "ctx_pred": ctx_pred, "est": e["typed"], "est_f16": e["f16"],
        "comp_meas": comp_meas, "comp_pred": comp_pred,
        "err": ctx_pred - ctx_meas, "err_pct": 100 * (ctx_pred - ctx_meas) / ctx_meas,
        "est_err": e["typed"] - ctx_meas, "est_err_pct": 100 * (e["typed"] - ctx_meas) / ctx_meas,
        "comp_err": comp_pred - comp_meas,
        "comp_err_pct": 100 * (comp_pred - comp_meas) / comp_meas,
        "total_meas": m["cpu_mapped"] + m["cpu_repack"] + ctx_meas,
        "total_pred": p["weights"] + ctx_pred,
        "w_exact": abs(p["weights"] - m["cpu_mapped"]) <= 0.005 * MiB,
        "kv_exact": abs(p["kv"] - m["kv"]) <= 0.011 * MiB,
        "repack": m["cpu_repack"],
        "closer": abs(ctx_pred - ctx_meas) < abs(e["typed"] - ctx_meas),
        "closer_f16": abs(ctx_pred - ctx_meas) < abs(e["f16"] - ctx_meas),
    }


def describe(c):
    return (f"n_ctx {c['n_ctx']}, np {c['n_seq']}, ub {c['n_ubatch']}, "
            f"FA {'on' if c['flash_attn'] else 'off'}, {c['type_k']}/{c['type_v']}")


def summary_table(groups):
    lines = ["| family | models | cases | compute+output: median / worst error | "
             "context: vramplan median / worst | context: node-llama-cpp median / worst | "
             "vramplan closer |",
             "|---|---|---:|---|---|---|---:|"]
    for fam, cases in groups:
        v = [row_values(c) for c in cases]
        comp = [abs(x["comp_err"]) for x in v]
        worst_comp = max(v, key=lambda x: abs(x["comp_err"]))
        ours = [abs(x["err_pct"]) for x in v]
        theirs = [abs(x["est_err_pct"]) for x in v]
        models = sorted({c["model"] for c in cases})
        lines.append(
            f"| {fam} | {', '.join(models)} | {len(cases)} | "
            f"{statistics.median(comp) / MiB:.2f} MiB / {worst_comp['comp_err'] / MiB:+.2f} MiB "
            f"({worst_comp['comp_err_pct']:+.2f} %) | "
            f"{statistics.median(ours):.2f} % / {max(ours):.2f} % | "
            f"{statistics.median(theirs):.1f} % / {max(theirs):.1f} % | "
            f"{sum(x['closer'] for x in v)}/{len(v)} |")
    return lines


def case_table(cases):
    lines = ["| model | settings | measured KV+compute+output | vramplan | error | "
             "node-llama-cpp | error | compute+output measured / vramplan |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for c in cases:
        x = row_values(c)
        lines.append(
            f"| {c['model']} | {describe(c)} | {fmt_mib(x['ctx_meas'])} | {fmt_mib(x['ctx_pred'])} | "
            f"{x['err'] / MiB:+.2f} ({x['err_pct']:+.2f} %) | {fmt_mib(x['est'])} | "
            f"{x['est_err'] / MiB:+.1f} ({x['est_err_pct']:+.1f} %) | "
            f"{fmt_mib(x['comp_meas'])} / {fmt_mib(x['comp_pred'])} |")
    return lines


def overall(cases, label):
    v = [row_values(c) for c in cases]
    tot = [abs(x["total_pred"] - x["total_meas"]) / x["total_meas"] * 100 for x in v]
    tot_norepack = [t for t, x in zip(tot, v) if not x["repack"]]
    ctx = [abs(x["err_pct"]) for x in v]
    within = sum(abs(x["comp_err"]) <= max(0.03 * x["comp_meas"], 8 * MiB) for x in v)
    return [
        f"- **{label}**: {len(v)} cases over {len({c['model'] for c in cases})} models.",
        f"  - weights = `CPU_Mapped` exactly: {sum(x['w_exact'] for x in v)}/{len(v)}; "
        f"KV exact: {sum(x['kv_exact'] for x in v)}/{len(v)}.",
        f"  - compute + output within max(3 %, 8 MiB): {within}/{len(v)}.",
        f"  - total (weights + KV + compute + output) error: median "
        f"{statistics.median(tot):.3f} %, worst {max(tot):.2f} % "
        f"(without the `CPU_REPACK` cases: median {statistics.median(tot_norepack):.3f} %, "
        f"worst {max(tot_norepack):.3f} %).",
        f"  - context memory (KV + compute + output) error: median {statistics.median(ctx):.3f} %, "
        f"worst {max(ctx):.2f} %.",
        f"  - vramplan closer than node-llama-cpp's estimator: "
        f"{sum(x['closer'] for x in v)}/{len(v)} "
        f"({100 * sum(x['closer'] for x in v) / len(v):.1f} %) against its estimate with the "
        f"cache types given; {sum(x['closer_f16'] for x in v)}/{len(v)} "
        f"({100 * sum(x['closer_f16'] for x in v) / len(v):.1f} %) against its estimate with the "
        f"types left out (f16 arithmetic).",
    ]


# --- Vulkan (lavapipe): bench/accuracy/vulkan, tests/accuracy/vulkan_accuracy_test.cpp ---------

def device_predictions(build, suite, out_var, tag):
    """Runs one device accuracy test with its *_ACCURACY_OUT set: its cases as written, its
    summary lines (those starting with `tag`, not the per-case compute lines), its status."""
    binary = pathlib.Path(build) / "bin" / "vramplan_tests"
    with tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False) as f:
        out = f.name
    env = dict(os.environ, **{out_var: out})
    run = subprocess.run([str(binary), f"--gtest_filter={suite}*"], env=env,
                         capture_output=True, text=True)
    summary = [l for l in run.stdout.splitlines()
               if l.startswith(tag) and not l.startswith(f"{tag} compute ")]
    cases = [json.loads(l) for l in open(out) if l.strip()]
    os.unlink(out)
    return cases, summary, run.returncode


def vulkan_predictions(build):
    return device_predictions(build, "VulkanAccuracy", "VRAMPLAN_VULKAN_ACCURACY_OUT",
                              "[vulkan-accuracy]")


def vulkan_records():
    """The complete oracle records, in the order the test reads them (sorted files)."""
    records = []
    for f in sorted((ROOT / "bench" / "accuracy" / "vulkan").glob("*.jsonl")):
        records += [j for j in map(json.loads, open(f)) if j.get("complete")]
    return records


# (label, component, device, which cases, asserted by the test)
VULKAN_ROWS = [
    ("Vulkan0 weights", "weights", "gpu", lambda c: True, "yes"),
    ("host weights, mmap off (`Vulkan_Host`)", "weights", "host", lambda c: not c["mmap"], "yes"),
    ("host weights, mmap on (`CPU_Mapped`: the mapped file range)", "weights", "host_mapped",
     lambda c: c["mmap"], "yes"),
    ("Vulkan0 KV", "kv", "gpu", lambda c: True, "yes"),
    ("host KV", "kv", "host", lambda c: True, "yes"),
    ("output (`Vulkan_Host`, `CPU` without GPU layers)", "output", "host", lambda c: True, "yes"),
    ("Vulkan0 compute", "compute", "gpu", lambda c: c["op_offload"],
     "yes (scheduler replay with the Vulkan reordering)"),
    ("host compute (`Vulkan_Host`)", "compute", "host", lambda c: c["op_offload"],
     "yes (scheduler replay)"),
    ("Vulkan0 compute, op offload off", "compute", "gpu", lambda c: not c["op_offload"],
     "yes (`--op-offload off`)"),
    ("host compute, op offload off", "compute", "host", lambda c: not c["op_offload"],
     "yes (`--op-offload off`)"),
]

# The same grid run with GGML_VK_DISABLE_GRAPH_OPTIMIZE=1 (bench/accuracy/vulkan/no-graph-optimize).
VULKAN_ROWS_NO_REORDER = [
    ("Vulkan0 compute, reordering off", "compute", "gpu", lambda c: True, "yes"),
    ("host compute, reordering off", "compute", "host", lambda c: c["op_offload"], "yes"),
    ("host compute, reordering off, op offload off", "compute", "host",
     lambda c: not c["op_offload"], "yes"),
]


def vulkan_component_table(cases, rows=VULKAN_ROWS, header=True):
    lines = ["| component | cases | exact (±0.01 MiB) | within max(3 %, 8 MiB) | "
             "median error | worst error | asserted |",
             "|---|---:|---:|---:|---:|---:|---|"] if header else []
    for label, comp, dev, which, asserted in rows:
        sel = [c for c in cases if which(c)]
        pred = lambda c: (c["vramplan"]["host_mapped"] if dev == "host_mapped"
                          else c["vramplan"][f"{dev}_compute"] if dev.startswith("formula_")
                          else c["vramplan"][dev][comp])
        mdev = ("host" if dev in ("host_mapped", "formula_host")
                else "gpu" if dev == "formula_gpu" else dev)
        err = [pred(c) - c["measured"][mdev][comp] for c in sel]
        meas = [c["measured"][mdev][comp] for c in sel]
        exact = sum(abs(e) <= 0.011 * MiB for e in err)
        within = sum(abs(e) <= max(0.03 * m, 8 * MiB) for e, m in zip(err, meas))
        worst = max(err, key=abs)
        lines.append(f"| {label} | {len(sel)} | {exact} | {within} | "
                     f"{statistics.median(abs(e) for e in err) / MiB:.2f} MiB | "
                     f"{worst / MiB:+.2f} MiB | {asserted} |".replace("-0.00 MiB", "+0.00 MiB"))
    return lines


def vulkan_case_table(cases, records):
    lines = ["| model | GPU layers | FA | ubatch | mmap | op offload | n-cpu-moe | splits (pp / tg) | "
             "host weights measured / vramplan | Vulkan0 compute measured / vramplan | "
             "host compute measured / vramplan |",
             "|---|---:|---|---:|---|---|---:|---:|---:|---:|---:|"]
    for c, r in zip(cases, records):
        if r["model"] != c["model"]:
            sys.exit("report.py: the Vulkan records and the test's cases are out of step")
        g = r["llama"].get("graph") or {}
        m, p = c["measured"], c["vramplan"]
        onoff = lambda b: "on" if b else "off"
        lines.append(
            f"| {c['model']} | {c['ngl']} | {onoff(c['flash_attn'])} | {c['n_ubatch']} | "
            f"{onoff(c['mmap'])} | {onoff(c['op_offload'])} | {c['n_cpu_moe']} | "
            f"{g.get('splits_pp')} / {g.get('splits_tg')} | "
            f"{fmt_mib(m['host']['weights'])} / "
            f"{fmt_mib(p['host_mapped'] if c['mmap'] else p['host']['weights'])} | "
            f"{fmt_mib(m['gpu']['compute'])} / {fmt_mib(p['gpu']['compute'])} | "
            f"{fmt_mib(m['host']['compute'])} / {fmt_mib(p['host']['compute'])} |")
    return lines


def vulkan_section(build):
    all_cases, summary, rc = vulkan_predictions(build)
    if not all_cases:
        return "", rc
    cases = [c for c in all_cases if c.get("graph_optimize", True)]
    plain = [c for c in all_cases if not c.get("graph_optimize", True)]
    records = vulkan_records()
    v = records[0]["versions"]
    models = sorted({c["model"] for c in cases})
    doc = "## Vulkan (lavapipe)\n\n"
    doc += (f"vramplan's per-device estimate (`--backend vulkan`, one GPU) against llama.cpp's "
            f"Vulkan backend on Mesa's software Vulkan driver (lavapipe, "
            f"`{(v.get('vulkan_device') or '').split(' | ')[0]}`): a real second device on a "
            f"CPU-only machine. {len(cases)} runs over {', '.join(models)} (the `vk*` ones are "
            f"synthetic shapes, `bench/accuracy/vulkan/shapes.yaml`): GPU layers all / half / "
            f"none, flash attention on/off, mmap on/off, op offload off, two sequences, a q8_0 "
            f"cache, `--n-cpu-moe` 2/4/8 on the MoE shape; and the no-cache encoders all-minilm:22m "
            f"(bert), nomic-embed-text:v1.5 (nomic-bert) and a gemma-embedding shape (`vkgemmaembd`) "
            f"at n_ctx 512, ubatch 512 and 2048 (`grid-vulkan-archs.json`); Qwen3-VL's text "
            f"models with DeepStack inputs, a qwen3vl and a qwen3vlmoe shape (`vkqwen3vl`, "
            f"`vkqwen3vlmoe`, n_deepstack_layers 3) at n_ctx 2048 and at n_ctx 512 with ubatch 2048 "
            f"(`grid-vulkan-deepstack.json`); llama4 (`vkllama4`, "
            f"`vkllama4il` with experts on every second block) and gemma3n (`vkgemma3n`, 22 blocks) "
            f"shapes, including ubatch 2048 at n_ctx 512 and `--n-cpu-moe` on llama4 "
            f"(`grid-vulkan-llama4-gemma3n.json`); and the hybrid recurrent shapes "
            f"`vkgranitehybrid` (granitehybrid) and `vkqwen3next` (qwen3next) with their RS buffers "
            f"(`grid-vulkan-hybrid.json`). Prebuilt `{v.get('library')}` of node-llama-cpp "
            f"{v.get('node_llama_cpp')} (llama.cpp source {v.get('llama_cpp_source')}), "
            f"driven through llama.cpp's C API (`scripts/oracle/vulkan/driver.cpp`; "
            f"node-llama-cpp cannot set tensor overrides or op offload off; on the other cases "
            f"`scripts/oracle/vulkan/crosscheck.mjs` finds node-llama-cpp's own buffers "
            f"identical). "
            f"How it is measured and the limits of this stand-in (lavapipe runs ops on tensors "
            f"over 128 MiB on the CPU): `scripts/oracle/vulkan/README.md`.\n\n")
    doc += ("Regenerate the runs, then this file:\n\n```sh\nscripts/oracle/vulkan/setup.sh\n"
            "python3 scripts/oracle/vulkan/measure.py --grid scripts/oracle/vulkan/grid-vulkan.json"
            " --name llamacpp-vulkan\npython3 scripts/oracle/vulkan/measure.py --grid "
            "scripts/oracle/vulkan/grid-vulkan-archs.json --name llamacpp-vulkan-archs\n"
            "python3 scripts/oracle/vulkan/measure.py --grid "
            "scripts/oracle/vulkan/grid-vulkan-deepstack.json --name llamacpp-vulkan-deepstack\n"
            "python3 scripts/oracle/vulkan/measure.py --grid "
            "scripts/oracle/vulkan/grid-vulkan-llama4-gemma3n.json --name "
            "llamacpp-vulkan-llama4-gemma3n\n"
            "python3 scripts/oracle/vulkan/measure.py --grid "
            "scripts/oracle/vulkan/grid-vulkan-hybrid.json --name llamacpp-vulkan-hybrid\n"
            "python3 scripts/oracle/vulkan/measure.py --grid "
            "scripts/oracle/vulkan/grid-vulkan-hybrid.json --name "
            "llamacpp-vulkan-hybrid-no-graph-optimize --out-dir "
            "bench/accuracy/vulkan/no-graph-optimize --env GGML_VK_DISABLE_GRAPH_OPTIMIZE=1\n"
            "python3 scripts/oracle/vulkan/measure.py --grid "
            "scripts/oracle/vulkan/grid-vulkan.json --name llamacpp-vulkan-no-graph-optimize "
            "--out-dir bench/accuracy/vulkan/no-graph-optimize --env GGML_VK_DISABLE_GRAPH_OPTIMIZE=1"
            "\npython3 scripts/oracle/vulkan/measure.py --grid "
            "scripts/oracle/vulkan/grid-vulkan-deepstack.json --name "
            "llamacpp-vulkan-deepstack-no-graph-optimize "
            "--out-dir bench/accuracy/vulkan/no-graph-optimize --env GGML_VK_DISABLE_GRAPH_OPTIMIZE=1"
            "\npython3 scripts/oracle/vulkan/measure.py --grid "
            "scripts/oracle/vulkan/grid-vulkan-llama4-gemma3n.json --name "
            "llamacpp-vulkan-llama4-gemma3n-no-graph-optimize "
            "--out-dir bench/accuracy/vulkan/no-graph-optimize --env GGML_VK_DISABLE_GRAPH_OPTIMIZE=1"
            "\npython3 scripts/oracle/report.py\n```\n\n")
    doc += ("### Per component\n\nErrors are vramplan − llama.cpp. Asserted rows are checked "
            "case by case, per device, at the log's precision by "
            "`tests/accuracy/vulkan_accuracy_test.cpp`. The cases with op offload off have their "
            "own compute rows (`--op-offload off`, llama-server's `--no-op-offload`). The last rows are the same grids (`grid-vulkan.json`, `grid-vulkan-deepstack.json`, `grid-vulkan-llama4-gemma3n.json`, `grid-vulkan-hybrid.json`) run with the Vulkan backend's node "
            f"reordering switched off ({len(plain)} runs, `GGML_VK_DISABLE_GRAPH_OPTIMIZE=1`, "
            "`bench/accuracy/vulkan/no-graph-optimize`).\n\n")
    doc += "\n".join(vulkan_component_table(cases) +
                     vulkan_component_table(plain, VULKAN_ROWS_NO_REORDER, header=False)) + "\n\n"
    doc += ("How the compute rows are predicted: vramplan replays ggml-backend's scheduler "
            "(`src/core/sched.cpp`, docs/memory-model.md \"Scheduler replay\"): every node of "
            "the reserved prompt and generation graphs gets a backend by llama.cpp's passes "
            "(weights' buffers, op offload of batches of 32 or more, expansion to neighbours, "
            "lavapipe's 128 MiB storage-buffer limit), the graph is split, inputs and host "
            "weights are copied into the split's backend, and ggml-alloc is replayed with one "
            "buffer per backend (Vulkan0 aligned to 16 bytes, Vulkan_Host to 64). The host "
            "buffer comes out exact on every case, with op offload on and off (a copy of a "
            "strided view, such as the experts' top-k indices, keeps its row gaps). With the Vulkan backend's node reordering switched off, llama.cpp's Vulkan0 "
            "buffer equals the replay's on every case, and so does the host buffer: the scheduler's decisions (backends, splits, copies, and when each copy "
            "and its source are freed) are replayed exactly. With the reordering on, llama.cpp's "
            "default, `ggml_vk_graph_optimize` (ggml-vulkan.cpp) reorders the nodes of each "
            "Vulkan split before ggml-alloc sees them, which moves Vulkan0's buffer on 38 of the "
            "72 cases of `grid-vulkan.json` (by up to about 19 MiB either way), on 9 of the 32 of "
            "`grid-vulkan-deepstack.json` and on 37 of the 46 of "
            "`grid-vulkan-llama4-gemma3n.json`; vramplan replays that reordering "
            "(`src/core/vk_reorder.cpp`) on graphs whose node list is llama.cpp's, KV-cache "
            "views included, and Vulkan0's buffer comes out exact on every case "
            "(docs/memory-model.md, \"Scheduler replay\"). With mmap the host weights are the "
            "mapped file range "
            "(`mapped_host_weights`, llama_model_loader::get_mapping_range).\n\n")
    doc += "The unit test's own summary lines:\n\n```\n" + "\n".join(summary) + "\n```\n\n"
    doc += vulkan_multi_section(build)
    doc += "### Every case\n\nBytes in MiB.\n\n" + "\n".join(vulkan_case_table(cases, records))
    return doc + "\n", rc


def vulkan_multi_section(build):
    """Several Vulkan devices (bench/accuracy/vulkan/multi): per component, from the figures
    VulkanAccuracyMultiGpu compares."""
    runs, summary, _ = device_predictions(build, "VulkanAccuracyMultiGpu",
                                          "VRAMPLAN_VULKAN_MULTI_OUT", "[vulkan-multi]")
    if not runs:
        return ""
    summary = [l for l in summary if " runs on " in l]
    # (label, which figure, which runs)
    later = lambda w, comp: w.startswith("Vulkan") and not w.startswith("Vulkan0") and w.endswith(comp)
    rows = [
        ("Vulkan0 weights", lambda w: w == "Vulkan0 weights", lambda r: True),
        ("Vulkan1/Vulkan2 weights", lambda w: later(w, " weights"), lambda r: True),
        ("host weights (mapped range or `Vulkan_Host`)", lambda w: w.endswith("host weights"),
         lambda r: True),
        ("KV, every GPU and the host", lambda w: w.endswith(" KV"), lambda r: True),
        ("output (host)", lambda w: w == "host output", lambda r: True),
        ("Vulkan0 compute, pipeline parallel", lambda w: w == "Vulkan0 compute",
         lambda r: r["pipeline_parallel"]),
        ("Vulkan1/Vulkan2 compute, pipeline parallel", lambda w: later(w, " compute"),
         lambda r: r["pipeline_parallel"]),
        ("host compute, pipeline parallel", lambda w: w == "host compute",
         lambda r: r["pipeline_parallel"]),
        ("Vulkan0 compute, host blocks or `--n-cpu-moe`", lambda w: w == "Vulkan0 compute",
         lambda r: not r["pipeline_parallel"]),
        ("Vulkan1 compute, host blocks or `--n-cpu-moe`", lambda w: later(w, " compute"),
         lambda r: not r["pipeline_parallel"]),
        ("host compute, host blocks or `--n-cpu-moe`", lambda w: w == "host compute",
         lambda r: not r["pipeline_parallel"]),
    ]
    lines = ["| component | figures | exact (±0.01 MiB per buffer) | median error | worst error |",
             "|---|---:|---:|---:|---:|"]
    for label, what, which in rows:
        figs = [f for r in runs if which(r) for f in r["figures"] if what(f["what"])]
        if not figs:
            continue
        err = [f["vramplan"] - f["measured"] for f in figs]
        worst = max(err, key=abs)
        lines.append(f"| {label} | {len(figs)} | {sum(f['exact'] for f in figs)} | "
                     f"{statistics.median(abs(e) for e in err) / MiB:.2f} MiB | "
                     f"{worst / MiB:+.2f} MiB |".replace("-0.00 MiB", "+0.00 MiB"))
    gaps = sorted({r["gap"] for r in runs if r["gap"]})
    n_pp = sum(r["pipeline_parallel"] for r in runs)
    doc = "### Several Vulkan devices\n\n"
    doc += (f"{len(runs)} runs with two or three Vulkan devices "
            f"(`bench/accuracy/vulkan/multi`, grid `scripts/oracle/vulkan/grid-vulkan-multi.json`): "
            "the one lavapipe device listed several times (`GGML_VK_VISIBLE_DEVICES=0,0`), for "
            "which llama.cpp creates a device, queues and buffers each, with the layer split set "
            "by `tensor_split` (1:1, 3:1, 1:1:1; vramplan splits by the GPUs' capacities, which "
            "the test sizes in the same proportions). "
            f"{n_pp} of them hold every layer on the GPUs, so llama.cpp enables pipeline "
            "parallelism (the Vulkan backend reports async compute and events) and its scheduler "
            "keeps four copies of every input on every backend; the others keep blocks on the "
            "host, with op offload on or off, or experts there (`--n-cpu-moe`). "
            "`tests/accuracy/vulkan_accuracy_test.cpp` (`VulkanAccuracyMultiGpu`) asserts every "
            + ("figure exact outside its named gaps: " + "; ".join(f"\"{g}\"" for g in gaps)
               if gaps else "figure exact (it names no gap)")
            + ".\n\n")
    doc += ("```sh\npython3 scripts/oracle/vulkan/measure.py --grid "
            "scripts/oracle/vulkan/grid-vulkan-multi.json --name llamacpp-vulkan-multi "
            "--out-dir bench/accuracy/vulkan/multi\n```\n\n")
    doc += "\n".join(lines) + "\n\n"
    doc += "```\n" + "\n".join(summary) + "\n```\n\n"
    return doc


# --- CUDA (a real GPU): bench/accuracy/cuda, tests/accuracy/cuda_accuracy_test.cpp ------------

CUDA_ROWS = [
    ("CUDA0 weights", "weights", "gpu", lambda c: True, "yes"),
    ("host weights, mmap off (`CUDA_Host`)", "weights", "host", lambda c: not c["mmap"], "yes"),
    ("host weights, mmap on (`CPU_Mapped`: the mapped file range)", "weights", "host_mapped",
     lambda c: c["mmap"], "yes"),
    ("CUDA0 KV", "kv", "gpu", lambda c: True, "yes"),
    ("host KV", "kv", "host", lambda c: True, "yes"),
    ("output (`CUDA_Host`, `CPU` without GPU layers)", "output", "host", lambda c: True, "yes"),
    ("CUDA0 compute, scheduler replay (CUDA rules)", "compute", "gpu", lambda c: True,
     "yes, outside the named gaps"),
    ("host compute, scheduler replay", "compute", "host", lambda c: True,
     "yes, outside the named gaps"),
    ("CUDA0 compute, the planner's closed form today", "compute", "formula_gpu",
     lambda c: True, "no: reported"),
    ("host compute, the planner's closed form today", "compute", "formula_host",
     lambda c: True, "no: reported"),
]


def published_cuda_paragraph(build):
    """The short paragraph on the published CUDA logs, from CudaPublished's own figures."""
    records, summary, _ = device_predictions(build, "CudaPublished",
                                             "VRAMPLAN_CUDA_PUBLISHED_OUT", "[cuda-published]")
    if not records:
        return ""
    parts = ["gpu_compute", "host_compute"]
    asserted = [r for r in records if r["match"] == "shape"]

    def held(rs, closed):
        n = 0
        for r in rs:
            for p in parts:
                c = r["parts"][p]
                if closed:
                    bar = max(0.03 * c["measured_mib"], 16.0)
                    n += abs(c["closed_form_error_mib"]) <= bar
                else:
                    n += c["holds"]
        return n

    total = len(asserted) * len(parts)
    line = summary[-1].removeprefix("[cuda-published] ") if summary else ""
    return (f"Published CUDA logs of other machines and builds: {len(records)} logs of llama.cpp "
            f"builds from 2025-03 to 2026-10, with their sources and error table in "
            f"`bench/accuracy/cuda-published/README.md` (`tests/accuracy/cuda_published_test.cpp`: "
            f"{line}). Their compute buffers are compared as the planner reports them, from the "
            f"replay: on the {len(asserted)} logs whose file has the catalog's shape, "
            f"{held(asserted, False)} of {total} compute buffers are within max(3 %, 16 MiB) "
            f"(the closed form: {held(asserted, True)}). The misses come from builds older than "
            f"the release followed (an f32 flash-attention mask before llama.cpp 031ddb2e0, "
            f"logits reserved for every prompt token before de6f727aa). An Ollama llama-server "
            f"of 2026-06 at 15 of 33 layers was 63 MiB above the replay on CUDA0 until the "
            f"replay read its Llama 3.1 file's `rope_freqs.weight`, which the host blocks' ROPE "
            f"nodes read on the GPU (19 more splits, as logged); it is now exact, planned from "
            f"the catalog name, whose entry records the tensor (`rope_freqs: true`).")


def cuda_section(build):
    cases, summary, rc = device_predictions(build, "CudaAccuracy", "VRAMPLAN_CUDA_ACCURACY_OUT",
                                            "[cuda-accuracy]")
    if not cases:
        return "", rc
    first = json.loads(open(ROOT / "bench/accuracy/cuda/llamacpp-cuda.jsonl").readline())
    v = first["versions"]
    models = sorted({c["model"] for c in cases})
    doc = "## CUDA (a real GPU)\n\n"
    doc += (f"vramplan's per-device estimate (`--backend cuda`, one GPU) against llama.cpp's "
            f"CUDA backend on a real GPU: {len(cases)} runs on `{v.get('cuda_device')}` "
            f"(a machine lent on 2026-12-04; CUDA 13.0), libllama built from the llama.cpp "
            f"source node-llama-cpp 3.22.1 bundles ({v.get('llama_cpp_source')}), one process "
            f"per case through `scripts/oracle/vulkan/driver.cpp` (load, one context, no "
            f"decode). Models: {', '.join(models)}; GPU layers all / half / none, flash "
            f"attention on/off, mmap on/off, op offload off, n_ctx 2048-32768, ubatch 256-2048, "
            f"a q8_0 cache, several sequences, `--n-cpu-moe`. How it was measured, and what the "
            f"GPU holds beyond llama.cpp's buffers (531-713 MiB on that machine): "
            f"`bench/accuracy/cuda/README.md`, `scripts/oracle/cuda/README.md`."
            f"\n\n{published_cuda_paragraph(build)}"
            f"\n\nThe runs need a machine with an NVIDIA GPU (`scripts/oracle/cuda/device.sh`); "
            f"this section is regenerated from the committed runs by "
            f"`python3 scripts/oracle/report.py`.\n\n")
    doc += ("### Per component\n\nErrors are vramplan − llama.cpp, asserted case by case at "
            "the log's precision by `tests/accuracy/cuda_accuracy_test.cpp` where the last "
            "column says so. The compute buffers are given twice: from the scheduler replay "
            "with CUDA's rules (`sched::cuda()`: 128-byte device buffers, `CUDA_Host` at the "
            "CPU's 32, op offload from 32 tokens, the allocation dependencies "
            "`ggml_backend_cuda_graph_optimize` adds for the MoE routing and expert-sum "
            "fusions, flash attention's f16 copies of a quantized cache from "
            "`ggml_cuda_flash_attn_ext_get_alloc_size`), which the test asserts outside named "
            "gaps, and from the closed form the planner's search runs on (`fit`, `plan`, `check` "
            "and `set` on CUDA GPUs replay the configuration they report and re-check it, "
            "test `CudaAccuracy.PlannerReportsTheReplay`; `size` and `recommend` keep the "
            "closed form). Several GPUs are replayed too, with the copies pipeline parallelism "
            "keeps (4 of every graph and split input on each backend, read from "
            "`ggml_backend_sched_split_graph`): not measured on CUDA here (one GPU was lent) "
            "nor checked against a published CUDA log of the pinned release; the same replay "
            "with Vulkan's rules is exact on every buffer of the pipeline-parallel runs on two "
            "and three Vulkan devices (\"Several Vulkan devices\" above); "
            "docs/memory-model.md, scheduler replay step 5.\n\n")
    doc += "\n".join(vulkan_component_table(cases, CUDA_ROWS)) + "\n\n"
    doc += ("The gap the replay does not cover yet (listed in the test with the runs it "
            "explains): the tiny gemma2 (head 256, sliding window) with a q8_0 cache and half "
            "its layers offloaded, 2 MiB low on the GPU.\n\n")
    doc += "The unit test's own summary lines:\n\n```\n" + "\n".join(summary) + "\n```\n"
    return doc + "\n", rc


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=str(ROOT / "build"))
    ap.add_argument("--out", default=str(ROOT / "docs" / "accuracy.md"))
    args = ap.parse_args()
    cases, summary, rc = predictions(args.build)
    if not cases:
        sys.exit("report.py: no predictions (is vramplan_tests built?)")
    versions = {}
    for f in sorted((ROOT / "bench" / "accuracy" / "data").glob("*.jsonl")):
        for line in open(f):
            j = json.loads(line)
            if "versions" in j:
                versions = j["versions"]
                break
    tuning = [c for c in cases if not c["held_out"]]
    held = [c for c in cases if c["held_out"]]

    def groups(cs):
        fams = {}
        for c in cs:
            fams.setdefault(FAMILY.get(c["arch"], c["arch"]), []).append(c)
        return sorted(fams.items())

    doc = (ROOT / "scripts" / "oracle" / "accuracy-intro.md").read_text().rstrip() + "\n\n"
    doc += "<!-- generated by scripts/oracle/report.py: do not edit below by hand -->\n\n"
    doc += (f"Measured with node-llama-cpp {versions.get('node_llama_cpp')} "
            f"(llama.cpp {versions.get('llama_cpp_build')}, release "
            f"{(versions.get('llama_cpp_release') or {}).get('release')}), "
            f"{versions.get('backend', 'cpu').upper()} backend.\n\n")
    doc += "## Summary\n\n" + "\n".join(overall(tuning, "Tuning grid") + overall(held, "Held-out grid"))
    doc += "\n\nThe unit test's own summary lines:\n\n```\n" + "\n".join(summary) + "\n```\n\n"
    doc += "## Per family (tuning grid)\n\n" + "\n".join(summary_table(groups(tuning))) + "\n\n"
    doc += "## Per family (held-out grid)\n\n" + "\n".join(summary_table(groups(held))) + "\n\n"
    doc += "## Every case\n\nBytes in MiB; errors are predicted − measured.\n\n"
    for label, cs in (("Tuning grid", tuning), ("Held-out grid", held)):
        for fam, fcs in groups(cs):
            doc += f"### {label}: {fam}\n\n" + "\n".join(case_table(fcs)) + "\n\n"
    vulkan, vulkan_rc = vulkan_section(args.build)
    doc += vulkan
    cuda, cuda_rc = cuda_section(args.build)
    doc += cuda
    # The vLLM section is generated by its own test (VRAMPLAN_VLLM_ACCURACY_TABLE, see the
    # section): kept as it is in the file.
    out_path = pathlib.Path(args.out)
    if out_path.exists():
        old = out_path.read_text()
        at = old.find("\n## vLLM (published logs)")
        if at >= 0:
            doc = doc.rstrip("\n") + "\n" + old[at:]
    out_path.write_text(doc)
    print(f"wrote {args.out} ({len(tuning)} tuning + {len(held)} held-out cases; "
          f"unit test {'passed' if rc == 0 else 'FAILED'}; Vulkan section: "
          f"{'test passed' if vulkan_rc == 0 else 'test FAILED'}; CUDA section: "
          f"{'test passed' if cuda_rc == 0 else 'test FAILED'})")


if __name__ == "__main__":
    main()
