#!/usr/bin/env python3
"""Whole-process GPU memory of a few cases, one at a time (scripts/oracle/cuda/README.md): what
nvidia-smi shows in use while the driver holds a model and a context after decoding one
512-token batch and one token, next to llama.cpp's own buffer lines. The difference is what
llama.cpp's buffers do not show: the CUDA context, loaded kernels, cuBLAS workspace, the pool.

  footprint.py --driver DRIVER --gguf-dir DIR --out FILE [--logs DIR]
Run after measure.py (which builds the driver and writes the GGUFs).
"""
import argparse
import importlib.util
import json
import pathlib
import subprocess
import sys
import time

sys.dont_write_bytecode = True
HERE = pathlib.Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("measure", HERE.parent / "vulkan/measure.py")
measure = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(measure)

CASES = [  # (model file stem, driver arguments)
    ("llama3.1-8b", ["--ngl", "33", "--ctx", "8192"]),
    ("llama3.1-8b", ["--ngl", "33", "--ctx", "32768"]),
    ("llama3.1-8b", ["--ngl", "16", "--ctx", "8192"]),
    ("qwen3-30b-a3b", ["--ngl", "49", "--ctx", "8192"]),
    ("qwen3-30b-a3b", ["--ngl", "49", "--ctx", "8192", "--n-cpu-moe", "24"]),
    ("gpt-oss-20b", ["--ngl", "25", "--ctx", "8192"]),
    ("gemma3-12b", ["--ngl", "49", "--ctx", "8192"]),
]
# The second run's models (grid-cuda-more.json): later arguments override the defaults, so one
# model is held without a decode and with a 2048-token batch too.
MORE = [
    ("qwen2.5-7b", ["--ngl", "29", "--ctx", "8192"]),
    ("qwen2.5-7b", ["--ngl", "29", "--ctx", "8192", "--decode", "0"]),
    ("qwen2.5-7b", ["--ngl", "29", "--ctx", "8192", "--ubatch", "2048", "--decode", "2048"]),
    ("llama3.2-3b", ["--ngl", "29", "--ctx", "8192"]),
    ("mistral-nemo-12b", ["--ngl", "41", "--ctx", "8192"]),
    ("deepseek-coder-v2-16b", ["--ngl", "28", "--ctx", "8192"]),
    ("deepseek-coder-v2-16b", ["--ngl", "28", "--ctx", "8192", "--n-cpu-moe", "13"]),
]


def gpu_used_mib():
    out = subprocess.run(["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits"],
                         capture_output=True, text=True).stdout
    return int(out.split()[0])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--driver", required=True)
    ap.add_argument("--gguf-dir", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--logs", default="/tmp/vramplan-oracle-cuda/logs/footprint")
    ap.add_argument("--cases", choices=["first", "more"], default="first")
    ap.add_argument("--decode", type=int, default=512, help="tokens in the first batch")
    args = ap.parse_args()
    logs = pathlib.Path(args.logs)
    logs.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w") as out:
        for i, (stem, extra) in enumerate(CASES if args.cases == "first" else MORE):
            gguf = pathlib.Path(args.gguf_dir) / f"{stem}.gguf"
            if not gguf.is_file():
                print(f"footprint: no {gguf}", file=sys.stderr)
                continue
            before = gpu_used_mib()
            log_path = logs / f"{i}-{stem}.log"
            cmd = [args.driver, "--model", str(gguf), "--ubatch", "512", "--fa", "on",
                   "--decode", str(args.decode), "--hold-ms", "4000"] + extra
            with open(log_path, "w") as log:
                proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
                held = None
                apps = ""
                deadline = time.monotonic() + 120
                while proc.poll() is None and time.monotonic() < deadline:
                    if "vramplan_driver: holding" in log_path.read_text(errors="replace"):
                        time.sleep(0.5)
                        held = gpu_used_mib()
                        apps = subprocess.run(
                            ["nvidia-smi", "--query-compute-apps=pid,used_memory",
                             "--format=csv,noheader,nounits"],
                            capture_output=True, text=True).stdout.strip()
                        break
                    time.sleep(0.05)
                proc.wait(timeout=150)
            text = log_path.read_text(errors="replace")
            record = {"gguf": stem, "args": cmd[3:],  # later arguments win
                      "returncode": proc.returncode, "gpu_used_before_mib": before,
                      "gpu_used_held_mib": held, "compute_apps": apps,
                      "decoded": "vramplan_driver: decoded" in text,
                      "llama": measure.parse_log(text)}
            out.write(json.dumps(record) + "\n")
            out.flush()
            print(f"footprint {stem} {' '.join(extra)}: before {before} MiB, held {held} MiB, "
                  f"apps {apps!r}, rc {proc.returncode}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
