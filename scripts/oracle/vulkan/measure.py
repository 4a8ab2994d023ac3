#!/usr/bin/env python3
"""Measures a grid with llama.cpp's Vulkan backend on Mesa's lavapipe (scripts/oracle/vulkan/
README.md): writes a sparse GGUF per model (vramplan_make_gguf), builds driver.cpp against the
prebuilt libllama of @node-llama-cpp/linux-x64-vulkan, runs one driver process per case (load +
context reserve, no decode) and parses every buffer line per device from llama.cpp's log.

  measure.py --grid scripts/oracle/vulkan/grid-vulkan.json --name llamacpp-vulkan \
             [--make-gguf build/bin/vramplan_make_gguf] [--work /tmp/vramplan-oracle-vulkan] \
             [--out-dir bench/accuracy/vulkan] [--cache ~/.cache/vramplan-oracle-vulkan]
"""
import argparse
import concurrent.futures
import json
import os
import pathlib
import re
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[3]
HERE = pathlib.Path(__file__).resolve().parent
MiB = 1024 * 1024
NUM = r"([0-9]+(?:\.[0-9]+)?)"
# Architectures without a KV cache (llama_model::create_memory makes none): a complete run of
# one logs no KV buffer.
NO_CACHE = {"bert", "nomic-bert", "nomic-bert-moe", "jina-bert-v2", "neo-bert", "modern-bert",
            "gemma-embedding"}


def buf(name, mib):
    return {"buffer": name, "mib": mib, "bytes": round(float(mib) * MiB)}


def parse_log(text):
    """Every line that sizes a buffer, per device, plus the context parameters."""
    r = {"params": {}, "model_buffers": [], "kv_buffers": [], "rs_buffers": [],
         "kv_size_lines": [], "compute_buffers": [], "compute_buffers_precise": [],
         "output_buffers": [], "layers": {}, "kv_layers": {}, "offloaded": None, "graph": None,
         "warnings": []}
    for line in text.splitlines():
        if m := re.match(rf"load_tensors:\s+(\S+) model buffer size =\s*{NUM} MiB", line):
            r["model_buffers"].append(buf(m[1], m[2]))
        elif m := re.match(r"load_tensors: layer\s+([0-9]+) assigned to device (\S+),", line):
            r["layers"][m[2]] = r["layers"].get(m[2], 0) + 1
        elif m := re.match(r"load_tensors: offloaded ([0-9]+)/([0-9]+) layers to GPU", line):
            r["offloaded"] = [int(m[1]), int(m[2])]
        elif m := re.match(r"llama_context:\s+(n_seq_max|n_ctx|n_ctx_seq|n_batch|n_ubatch|"
                           r"flash_attn|kv_unified|n_outputs_max|causal_attn)\s+=\s+(\S+)", line):
            v = m[2]
            r["params"][m[1]] = (int(v) if re.fullmatch(r"-?[0-9]+", v) else
                                 True if v == "true" else False if v == "false" else v)
        elif m := re.match(rf"llama_context:\s+(\S+)\s+output buffer size =\s*{NUM} MiB", line):
            r["output_buffers"].append(buf(m[1], m[2]))
        elif m := re.match(r"llama_kv_cache\S*: layer\s+([0-9]+): dev = (\S+)", line):
            r["kv_layers"][m[2]] = r["kv_layers"].get(m[2], 0) + 1
        elif m := re.match(rf"llama_kv_cache\S*:\s+(\S+) KV buffer size =\s*{NUM} MiB", line):
            r["kv_buffers"].append(buf(m[1], m[2]))
        elif m := re.match(rf"llama_memory_recurrent:\s+(\S+) RS buffer size =\s*{NUM} MiB", line):
            # The recurrent state of a hybrid's recurrent blocks (llama-memory-recurrent.cpp),
            # one buffer per device as the KV cache's.
            r["rs_buffers"].append(buf(m[1], m[2]))
        elif m := re.match(rf"llama_kv_cache\S*: size =\s*{NUM} MiB \(\s*([0-9]+) cells,\s*"
                           rf"([0-9]+) layers,\s*([0-9]+)/([0-9]+) seqs\), K \((\S+)\):\s*{NUM} "
                           rf"MiB, V \((\S+)\):\s*{NUM} MiB", line):
            r["kv_size_lines"].append({
                "raw": line, "mib": m[1], "bytes": round(float(m[1]) * MiB),
                "cells": int(m[2]), "layers": int(m[3]), "n_seq_max": int(m[4]),
                "n_stream": int(m[5]), "k_type": m[6], "v_type": m[8]})
        elif m := re.match(rf"sched_reserve:\s+(\S+) compute buffer size =\s*{NUM} MiB", line):
            r["compute_buffers"].append(buf(m[1], m[2]))
        elif m := re.match(rf"~llama_context:\s+(\S+) compute buffer size is\s*{NUM} MiB", line):
            r["compute_buffers_precise"].append(buf(m[1], m[2]))
        elif m := re.search(r"graph \(pp bs=([0-9]+), tg bs=([0-9]+)\): nodes = ([0-9]+) / "
                            r"([0-9]+), splits = ([0-9]+) / ([0-9]+)", line):
            r["graph"] = {"pp_tokens": int(m[1]), "tg_tokens": int(m[2]),
                          "nodes_pp": int(m[3]), "nodes_tg": int(m[4]),
                          "splits_pp": int(m[5]), "splits_tg": int(m[6])}
        elif m := re.search(r"graph: nodes = ([0-9]+), splits = ([0-9]+)", line):
            # one line when the prompt and token graphs split alike
            r["graph"] = {"nodes_pp": int(m[1]), "nodes_tg": int(m[1]),
                          "splits_pp": int(m[2]), "splits_tg": int(m[2])}
        elif re.search(r"failed|error|not supported|fallback", line, re.I):
            r["warnings"].append(line)
    for key in ("model", "kv", "rs", "compute", "output"):
        r[f"{key}_bytes"] = sum(b["bytes"] for b in r[f"{key}_buffers"])
    return r


def build_driver(args, work):
    """The driver and what to record about the library it runs: node-llama-cpp's prebuilt
    Vulkan libllama, or a libllama built from the same llama.cpp source (--build-dir)."""
    cache = pathlib.Path(args.cache)
    driver = work / "driver"
    flags = ["g++", "-std=c++17", "-O1", "-Wall", "-Wextra", "-o", str(driver),
             str(HERE / "driver.cpp")]
    if args.build_dir:
        src = pathlib.Path(args.source)
        libs = pathlib.Path(args.build_dir) / "bin"
        commit = (src / "SOURCE_COMMIT").read_text().strip() if (
            src / "SOURCE_COMMIT").is_file() else subprocess.run(
                ["git", "-C", str(src), "log", "-1", "--format=%H %cs"],
                capture_output=True, text=True).stdout.strip()
        subprocess.run(flags + [f'-DVRAMPLAN_LLAMA_SOURCE="{commit}"', f"-I{src}/include",
                                f"-I{src}/ggml/include", f"-L{libs}", "-lllama", "-lggml",
                                "-lggml-base", f"-Wl,-rpath,{libs}"], check=True)
        versions = {"llama_cpp_source": commit, "library": "libllama.so built from that source",
                    "backend": args.backend}
        return driver, "", versions
    bins = cache / "node_modules/@node-llama-cpp/linux-x64-vulkan/bins/linux-x64-vulkan"
    src = cache / "llama.cpp"
    if not bins.is_dir() or not (src / "include/llama.h").is_file():
        sys.exit(f"measure.py: no prebuilt Vulkan libllama or its source in {cache} "
                 "(run scripts/oracle/vulkan/setup.sh)")
    libllama = next(bins.glob("libllama.vulkan.*.so")).name
    libggml = next(bins.glob("libggml.vulkan.*.so")).name
    subprocess.run(flags + [f"-I{src}/include", f"-I{src}/ggml/include", f"-L{bins}",
                            f"-l:{libllama}", "-l:libllama-common.so", "-l:libggml-base.so",
                            f"-l:{libggml}", f"-Wl,-rpath,{bins}"], check=True)
    pkg = json.loads((cache / "node_modules/node-llama-cpp/package.json").read_text())
    source_commit = subprocess.run(["git", "-C", str(src), "log", "-1", "--format=%H %cs"],
                                   capture_output=True, text=True).stdout.strip()
    versions = {"node_llama_cpp": pkg["version"],
                "llama_cpp_release": json.loads(
                    (cache / "node_modules/node-llama-cpp/llama/binariesGithubRelease.json")
                    .read_text()),
                "llama_cpp_source": source_commit,  # the bundle's HEAD (gitRelease.bundle)
                "library": libllama, "backend": "vulkan"}
    return driver, str(bins), versions


def case_tag(model, c):
    tag = (f"{re.sub(r'[^A-Za-z0-9._-]', '_', model)}-ngl{c['ngl']}-c{c['ctx']}-"
           f"ub{c['ubatch']}-fa{int(c['fa'])}-mmap{int(c['mmap'])}-"
           f"oo{int(c['op_offload'])}-cmoe{c['n_cpu_moe']}")
    if c.get("seqs", 1) != 1:
        tag += f"-s{c['seqs']}"
    if c.get("type_k", "f16") != "f16" or c.get("type_v", "f16") != "f16":
        tag += f"-k{c.get('type_k', 'f16')}-v{c.get('type_v', 'f16')}"
    if c.get("gpus", 1) != 1:
        tag += f"-g{c['gpus']}"
    if "split" in c:
        tag += "-ts" + "_".join(str(x) for x in c["split"])
    return tag


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--grid", default=str(HERE / "grid-smoke.json"))
    ap.add_argument("--name", default="llamacpp-vulkan-smoke")
    ap.add_argument("--make-gguf", default=str(ROOT / "build" / "bin" / "vramplan_make_gguf"))
    ap.add_argument("--work", default="/tmp/vramplan-oracle-vulkan")
    ap.add_argument("--out-dir", default=str(ROOT / "bench" / "accuracy" / "vulkan"))
    ap.add_argument("--cache", default=os.path.expanduser("~/.cache/vramplan-oracle-vulkan"))
    ap.add_argument("--backend", default="vulkan", choices=["vulkan", "cuda"],
                    help="the GPU backend measured (cuda needs --build-dir)")
    ap.add_argument("--build-dir", default="",
                    help="a CMake build of libllama from --source (bin/libllama.so) instead of "
                         "node-llama-cpp's prebuilt Vulkan library (scripts/oracle/cuda)")
    ap.add_argument("--source", default="", help="the llama.cpp source of --build-dir")
    ap.add_argument("--jobs", type=int, default=1, help="cases run at once")
    ap.add_argument("--progress", default="",
                    help="also append each record to this file as it completes")
    ap.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                    help="extra environment for llama.cpp, recorded in every record (e.g. "
                         "GGML_VK_DISABLE_GRAPH_OPTIMIZE=1)")
    args = ap.parse_args()
    if args.backend == "cuda" and not args.build_dir:
        sys.exit("measure.py: --backend cuda needs --build-dir (scripts/oracle/cuda/README.md)")

    work = pathlib.Path(args.work)
    (work / "gguf").mkdir(parents=True, exist_ok=True)
    logs = work / "logs" / args.name
    logs.mkdir(parents=True, exist_ok=True)
    driver, backends, versions = build_driver(args, work)

    env = dict(os.environ)
    if args.backend == "vulkan":
        env["GGML_VK_VISIBLE_DEVICES"] = "0"  # lavapipe is a CPU-type device
    extra_env = dict(kv.split("=", 1) for kv in args.env)
    env.update(extra_env)
    grid = json.loads(pathlib.Path(args.grid).read_text())
    catalog = ROOT / "bench/accuracy/vulkan/shapes.yaml"
    jobs = []
    for entry in grid:
        model = entry["model"]
        gguf = work / "gguf" / (re.sub(r"[:/]", "-", model) + ".gguf")
        made = json.loads(subprocess.run(
            [args.make_gguf, "--catalog", str(catalog), "--model", model, "--out",
             str(gguf)], check=True, capture_output=True, text=True).stdout)
        jobs += [(model, gguf, made, c) for c in entry["cases"]]

    device = {"name": None}

    def run_case(job):
        model, gguf, made, c = job
        cmd = [str(driver), "--model", str(gguf), "--backends", backends,
               "--ngl", str(c["ngl"]), "--ctx", str(c["ctx"]),
               "--seqs", str(c.get("seqs", 1)), "--ubatch", str(c["ubatch"]),
               "--fa", "on" if c["fa"] else "off",
               "--mmap", "on" if c["mmap"] else "off",
               "--op-offload", "on" if c["op_offload"] else "off",
               "--n-cpu-moe", str(c["n_cpu_moe"]),
               "--type-k", c.get("type_k", "f16"), "--type-v", c.get("type_v", "f16")]
        if "split" in c:
            cmd += ["--split", ",".join(str(x) for x in c["split"])]
        if not backends:
            del cmd[3:5]
        case_env = env
        if args.backend == "vulkan" and c.get("gpus", 1) > 1:
            # Several Vulkan devices on the one lavapipe device: llama.cpp takes the listed
            # indices as they are (GGML_VK_VISIBLE_DEVICES, ggml_vk_instance_init), each its own
            # VkDevice, queues and buffers.
            case_env = dict(env, GGML_VK_VISIBLE_DEVICES=",".join(["0"] * c["gpus"]))
        t0 = time.monotonic()
        run = subprocess.run(cmd, capture_output=True, text=True, env=case_env)
        seconds = time.monotonic() - t0
        log = run.stdout + run.stderr
        tag = case_tag(model, c)
        (logs / f"{tag}.log").write_text(log)
        if m := re.search(r"ggml_vulkan: 0 = (.*)", log):
            device["name"] = m[1].strip()
        if m := re.search(r"Device 0: (.*)", log):
            device["name"] = m[1].strip()
        if m := re.search(r"vramplan_driver: llama.cpp build ([0-9]+), commit (\S+)", log):
            versions["llama_cpp_build"] = f"build {m[1]}, commit {m[2]}"
        llama = parse_log(log)
        complete = (run.returncode == 0 and llama["params"].get("n_ctx") is not None
                    and llama["compute_buffers"] and llama["output_buffers"]
                    and (llama["kv_buffers"] or made["arch"] in NO_CACHE))
        record = {"model": model, "arch": made["arch"], "file_type": made["file_type"],
                  "gguf": str(gguf), "tensor_bytes": made["tensor_bytes"],
                  "asked": c, "env": extra_env, "complete": bool(complete),
                  "returncode": run.returncode, "seconds": round(seconds, 1), "llama": llama,
                  "versions": dict(versions, **{f"{args.backend}_device": device["name"]})}
        devs = " ".join(f"{b['buffer']}={b['mib']}" for b in
                        llama["model_buffers"] + llama["kv_buffers"] +
                        llama["rs_buffers"] + llama["compute_buffers"])
        print(f"{tag}: rc={run.returncode} {seconds:.1f}s {devs}", file=sys.stderr, flush=True)
        if args.progress:
            with open(args.progress, "a") as f:
                f.write(json.dumps(record) + "\n")
        return record

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        records = list(pool.map(run_case, jobs))  # grid order, whatever finished first
    out_path = work / f"{args.name}.jsonl"
    out_path.write_text("".join(json.dumps(r) + "\n" for r in records))
    out_dir = pathlib.Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    final = out_dir / f"{args.name}.jsonl"
    final.write_text(out_path.read_text())
    print(f"wrote {final}", file=sys.stderr)


if __name__ == "__main__":
    main()
