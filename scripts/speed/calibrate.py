#!/usr/bin/env python3
"""Fit the speed model's constants (src/core/speed.cpp) on public llama-bench results.

Reads bench/speed/llama-bench.tsv (the results), models/hardware/gpus.yaml (bandwidth and
class of each device) and bench/speed/model-costs.tsv (bytes and FLOPs per token of each
benchmarked model, written by the C++ test SpeedAccuracy.ModelCostsFileIsCurrent from the
same token_reads() the estimate uses). Prints the fitted constants as C++ and the error
tables as Markdown for docs/speed.md, both for the full fit and leave-one-device-out.

    python3 scripts/speed/calibrate.py > /tmp/speed-fit.md

The model (docs/speed.md section 2):
    decode:  t = bytes / (bandwidth x efficiency[class]) + blocks x overhead[group]
    prefill: t = n x flops / (flop_per_byte[class] x bandwidth x f16_factor^is_f16)
                 + bytes / (bandwidth x efficiency[class])
Python 3 standard library plus PyYAML (python3-yaml).
"""

import argparse
import math
import os
import statistics
import sys

import yaml

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
CLASSES = ["apple-m1", "apple-m2", "apple-m3", "apple-m4", "gddr-ampere", "gddr-ada",
           "gddr-other", "hbm"]
# The per-block decode overhead is shared by every class of one group (kernel launches and
# synchronisation are a property of the backend more than of the memory).
OVERHEAD_GROUP = {"apple-m1": "apple", "apple-m2": "apple", "apple-m3": "apple",
                  "apple-m4": "apple", "gddr-ampere": "gddr", "gddr-ada": "gddr",
                  "gddr-other": "gddr", "hbm": "hbm"}
# Decode efficiency is shared by the Apple generations (one memory system design); each
# other class has its own.
EFFICIENCY_GROUP = {c: ("apple" if c.startswith("apple") else c) for c in CLASSES}


def speed_class(vendor, arch, memory_type, bandwidth):
    """The same rule as vramplan::speed_class (src/core/speed.cpp)."""
    memory_type = memory_type or ""
    if vendor == "apple":
        return arch if arch in CLASSES else "apple-m4"
    if memory_type.startswith("HBM"):
        return "hbm"
    if not memory_type.startswith("GDDR") and (
            arch in ("volta", "hopper", "gfx90a", "gfx942") or bandwidth > 1500):
        return "hbm"
    if vendor != "nvidia":
        return "gddr-other"
    if arch in ("ada", "blackwell"):
        return "gddr-ada"
    return "gddr-ampere"


def read_tsv(path):
    with open(path, encoding="utf-8") as f:
        lines = f.read().rstrip("\n").split("\n")
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"))) for line in lines[1:]]


def load_rows(tsv, gpus_yaml, costs_tsv):
    with open(gpus_yaml, encoding="utf-8") as f:
        catalog = yaml.safe_load(f)
    gpus = {}
    for g in catalog["gpus"]:
        if g.get("bandwidth_gbps"):
            gpus[g["id"]] = (speed_class(g["vendor"], g["arch"], g.get("memory_type"),
                                         g["bandwidth_gbps"]), float(g["bandwidth_gbps"]))
    costs = {(c["model"], c["quant"]): c for c in read_tsv(costs_tsv)}
    rows = []
    for r in read_tsv(tsv):
        if r["notes"].startswith("excluded:") or r["n_gpus"] != "1":
            continue
        cost = costs.get((r["model"], r["quant"]))
        if r["device"] not in gpus or cost is None:
            continue
        n_layer = int(cost["n_layer"])
        # an empty n_gpu_layers is llama-bench's default, 99 (all layers)
        if int(r["n_gpu_layers"] or 99) < n_layer + 1:
            continue
        cls, bw = gpus[r["device"]]
        test = r["test"]
        n = int(test[2:])
        depth = n // 2
        window = int(cost["swa_window"])
        swa_positions = min(depth, window) if window > 0 else depth
        weight_bytes = float(cost["gpu_weight_bytes"])
        rows.append({
            "device": r["device"], "model": r["model"], "quant": r["quant"], "test": test,
            "kind": test[:2], "n": n, "measured": float(r["tokens_per_s"]), "class": cls,
            "bw": bw * 1e9, "blocks": n_layer, "cores": int(r["gpu_cores"] or 0), "f16": r["quant"] in ("F16", "BF16"),
            "weight_bytes": weight_bytes,
            # decode at depth n/2: weights plus the KV cache read so far
            "decode_bytes": weight_bytes + float(cost["kv_bytes_per_position"]) * depth
                            + float(cost["swa_kv_bytes_per_position"]) * swa_positions,
            "prefill_flops": n * (float(cost["matmul_flops"])
                                  + float(cost["attention_flops_per_position"]) * n / 2),
        })
    return rows


def fit_decode(rows):
    """Efficiency per efficiency group, overhead per overhead group: least squares on the
    relative error of the time per token."""
    eff = {}
    overhead = {}
    for group in sorted(set(OVERHEAD_GROUP.values())):
        classes = [c for c in CLASSES if OVERHEAD_GROUP[c] == group]
        data = [r for r in rows if r["kind"] == "tg" and r["class"] in classes]
        present = sorted({EFFICIENCY_GROUP[r["class"]] for r in data})
        if not present:
            continue
        # unknowns: 1/efficiency per efficiency group, then the overhead (s per block)
        k = len(present) + 1
        ata = [[0.0] * k for _ in range(k)]
        atb = [0.0] * k
        for r in data:
            t = 1.0 / r["measured"]
            x = [0.0] * k
            x[present.index(EFFICIENCY_GROUP[r["class"]])] = r["decode_bytes"] / r["bw"] / t
            x[-1] = r["blocks"] / t
            for i in range(k):
                atb[i] += x[i]
                for j in range(k):
                    ata[i][j] += x[i] * x[j]
        sol = solve(ata, atb)
        if sol is None or sol[-1] < 0:  # no separable overhead: efficiency alone
            sol = []
            for e in present:
                sel = [r["decode_bytes"] / r["bw"] * r["measured"] for r in data
                       if EFFICIENCY_GROUP[r["class"]] == e]
                sol.append(sum(sel) / sum(x * x for x in sel))
            sol.append(0.0)
        for c in classes:
            if EFFICIENCY_GROUP[c] in present:
                eff[c] = 1.0 / sol[present.index(EFFICIENCY_GROUP[c])]
        overhead[group] = sol[-1]
    return eff, overhead


def solve(a, b):
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for col in range(n):
        piv = max(range(col, n), key=lambda i: abs(m[i][col]))
        if abs(m[piv][col]) < 1e-30:
            return None
        m[col], m[piv] = m[piv], m[col]
        for i in range(n):
            if i != col:
                f = m[i][col] / m[col][col]
                for j in range(col, n + 1):
                    m[i][j] -= f * m[col][j]
    return [m[i][n] / m[i][i] for i in range(n)]


def decode_rate(r, eff, overhead):
    if r["class"] not in eff:
        return None
    t = r["decode_bytes"] / (r["bw"] * eff[r["class"]]) + \
        r["blocks"] * overhead.get(OVERHEAD_GROUP[r["class"]], 0.0)
    return 1.0 / t


def compute_scale(r):
    """What prefill throughput scales with: GPU cores (x 10^9, so the constant is GFLOP/s per
    core) on Apple, peak bandwidth (the constant is FLOP per byte) elsewhere."""
    return r["cores"] * 1e9 if r["class"].startswith("apple") else r["bw"]


def prefill_rate(r, eff, kappa, f16_factor):
    if r["class"] not in eff or r["class"] not in kappa:
        return None
    q = f16_factor.get(OVERHEAD_GROUP[r["class"]], 1.0) if r["f16"] else 1.0
    t = r["prefill_flops"] / (kappa[r["class"]] * compute_scale(r) * q) + \
        r["weight_bytes"] / (r["bw"] * eff[r["class"]])
    return r["n"] / t


def fit_prefill(rows, eff):
    """Per class FLOP per byte (the median of what each row implies); per group an F16 factor
    (GEMM on F16 weights against dequantizing kernels), the one that minimises the group's
    median error."""
    kappa = {}
    f16_factor = {}
    for group in sorted(set(OVERHEAD_GROUP.values())):
        data = [r for r in rows if r["kind"] == "pp" and r["class"] in eff
                and OVERHEAD_GROUP[r["class"]] == group]
        if not data:
            continue

        def kappas(factor):
            out = {}
            for c in CLASSES:
                implied = []
                for r in data:
                    if r["class"] != c:
                        continue
                    q = factor if r["f16"] else 1.0
                    compute = r["n"] / r["measured"] - r["weight_bytes"] / (r["bw"] * eff[c])
                    if compute > 0:
                        implied.append(r["prefill_flops"] / (compute * compute_scale(r) * q))
                if implied:
                    out[c] = statistics.median(implied)
            return out

        best = None
        candidates = range(80, 201) if any(r["f16"] for r in data) else [100]
        for step in candidates:
            factor = step / 100
            k = kappas(factor)
            errors = [abs(prefill_rate(r, eff, k, {group: factor}) / r["measured"] - 1)
                      for r in data]
            score = statistics.median(errors)
            if best is None or score < best[0] - 1e-12:
                best = (score, factor, k)
        kappa.update(best[2])
        f16_factor[group] = best[1]
    return kappa, f16_factor


def fit(rows):
    eff, overhead = fit_decode(rows)
    kappa, f16_factor = fit_prefill(rows, eff)
    return eff, overhead, kappa, f16_factor


def predict(r, params):
    eff, overhead, kappa, f16_factor = params
    if r["kind"] == "tg":
        return decode_rate(r, eff, overhead)
    return prefill_rate(r, eff, kappa, f16_factor)


def moe_check(tsv, costs_tsv, params):
    """GB10 (DGX Spark) has no bandwidth in the catalog, but it has dense and MoE results
    from one build: fit its effective bandwidth on the dense decode rows (overhead of the
    GDDR group), then predict the MoE rows, which read only their active experts."""
    _, overhead, _, _ = params
    costs = {(c["model"], c["quant"]): c for c in read_tsv(costs_tsv)}
    rows = []
    for r in read_tsv(tsv):
        cost = costs.get((r["model"], r["quant"]))
        if r["device"] != "gb10" or not r["test"].startswith("tg") or cost is None:
            continue
        moe = "moe" in r["model"].lower()
        rows.append((r, cost, moe))
    o = overhead["gddr"]
    dense_bw = []
    for r, cost, moe in rows:
        if not moe:
            t = 1.0 / float(r["tokens_per_s"]) - int(cost["n_layer"]) * o
            dense_bw.append(float(cost["gpu_weight_bytes"]) / t)
    bw = statistics.median(dense_bw)
    out = []
    for r, cost, moe in rows:
        t = float(cost["gpu_weight_bytes"]) / bw + int(cost["n_layer"]) * o
        out.append((r["model"], r["quant"], r["test"], moe, float(r["tokens_per_s"]), 1.0 / t,
                    float(cost["gpu_weight_bytes"])))
    return bw, out


def summary(errors):
    a = [abs(e) for e in errors]
    return len(a), statistics.median(a), max(a)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--tsv", default=os.path.join(ROOT, "bench/speed/llama-bench.tsv"))
    p.add_argument("--gpus", default=os.path.join(ROOT, "models/hardware/gpus.yaml"))
    p.add_argument("--costs", default=os.path.join(ROOT, "bench/speed/model-costs.tsv"))
    args = p.parse_args()
    rows = load_rows(args.tsv, args.gpus, args.costs)
    params = fit(rows)
    eff, overhead, kappa, f16_factor = params

    out = sys.stdout
    out.write("## Constants (src/core/speed.cpp kConstants)\n\n```cpp\n")
    for c in CLASSES:
        g = OVERHEAD_GROUP[c]
        out.write("    {%.3f, %.1f, %.1f, %.2f},  // %s\n" % (
            eff.get(c, float("nan")), overhead.get(g, float("nan")) * 1e6,
            kappa.get(c, float("nan")), f16_factor.get(g, float("nan")), c))
    out.write("```\n\n")

    for r in rows:
        r["predicted"] = predict(r, params)
    # leave one device out: refit without the device, predict its rows
    for device in sorted({r["device"] for r in rows}):
        rest = [r for r in rows if r["device"] != device]
        held = fit(rest)
        for r in rows:
            if r["device"] == device:
                r["lodo"] = predict(r, held)

    out.write("## Overall\n\n| test | rows | results | devices | median abs error | worst |"
              " leave-one-device-out median | LODO worst | LODO results |\n"
              "|---|---|---:|---:|---:|---:|---:|---:|---:|\n")
    subsets = (("all rows", lambda r: True),
               ("Apple Silicon", lambda r: r["class"].startswith("apple")),
               ("discrete GPUs", lambda r: not r["class"].startswith("apple")),
               ("NVIDIA GDDR", lambda r: r["class"] in ("gddr-ampere", "gddr-ada")),
               ("HBM datacenter", lambda r: r["class"] == "hbm"))
    for (kind, name), (subset, keep) in [(k, s) for k in (("tg", "decode (tg)"),
                                                           ("pp", "prefill (pp)"))
                                         for s in subsets]:
        sel = [r for r in rows if r["kind"] == kind and r["predicted"] is not None and keep(r)]
        if not sel:
            continue
        n, med, worst = summary([r["predicted"] / r["measured"] - 1 for r in sel])
        lodo = [r["lodo"] / r["measured"] - 1 for r in sel if r.get("lodo") is not None]
        ln, lmed, lworst = summary(lodo)
        out.write("| %s | %s | %d | %d | %.1f %% | %.1f %% | %.1f %% | %.1f %% | %d |\n" % (
            name, subset, n, len({r["device"] for r in sel}), 100 * med, 100 * worst, 100 * lmed,
            100 * lworst, ln))
    out.write("\n## Per device\n\n| device | class | decode results | decode median | decode worst |"
              " prefill results | prefill median | prefill worst |\n"
              "|---|---|---:|---:|---:|---:|---:|---:|\n")
    for device in sorted({r["device"] for r in rows}, key=lambda d: (
            CLASSES.index(next(r["class"] for r in rows if r["device"] == d)), d)):
        cells = []
        for kind in ("tg", "pp"):
            errs = [r["predicted"] / r["measured"] - 1 for r in rows
                    if r["device"] == device and r["kind"] == kind and r["predicted"] is not None]
            if errs:
                n, med, worst = summary(errs)
                cells.append("%d | %.1f %% | %.1f %%" % (n, 100 * med, 100 * worst))
            else:
                cells.append("0 | - | -")
        cls = next(r["class"] for r in rows if r["device"] == device)
        out.write("| %s | %s | %s |\n" % (device, cls, " | ".join(cells)))
    bw, checks = moe_check(args.tsv, args.costs, params)
    out.write("\n## MoE check (GB10, effective bandwidth %.0f GB/s from its dense rows)\n\n"
              "| model | quant | test | MoE | bytes per token | measured t/s | predicted t/s |"
              " error |\n|---|---|---|---|---:|---:|---:|---:|\n" % (bw / 1e9))
    for model, quant, test, moe, measured, predicted, nbytes in checks:
        out.write("| %s | %s | %s | %s | %.2f GB | %.2f | %.2f | %+.1f %% |\n" % (
            model, quant, test, "yes" if moe else "no (fit)", nbytes / 1e9, measured, predicted,
            100 * (predicted / measured - 1)))
    out.write("\n## Per result\n\n| device | model | quant | test | measured t/s | predicted t/s |"
              " error | leave-one-device-out error |\n|---|---|---|---|---:|---:|---:|---:|\n")
    for r in rows:
        if r["predicted"] is None:
            continue
        lodo = "%+.1f %%" % (100 * (r["lodo"] / r["measured"] - 1)) if r.get("lodo") else "-"
        out.write("| %s | %s | %s | %s | %.2f | %.2f | %+.1f %% | %s |\n" % (
            r["device"], r["model"], r["quant"], r["test"], r["measured"], r["predicted"],
            100 * (r["predicted"] / r["measured"] - 1), lodo))


if __name__ == "__main__":
    main()
