#!/usr/bin/env python3
"""Print llama-bench.tsv rows from XiongjieDai/GPU-Benchmarks-on-LLM-Inference notebooks.

The single-GPU 'LLaMA 3/Professional GPUs/*_v3.ipynb' notebooks hold llama-bench's own output
(device line, table, build line). Run inside a clone of that repository:

    python3 scripts/speed/extract_xiongjiedai.py /path/to/GPU-Benchmarks-on-LLM-Inference

Rows to exclude were marked by hand afterwards (docs/sizing-data.md section 2).
"""

import json
import re
import subprocess
import sys

CARDS = {  # notebook prefix -> (gpus.yaml id, note)
    "4000_Ada": ("rtx-4000-ada", "no gpus.yaml entry"),
    "5000_Ada": ("rtx-5000-ada", "no gpus.yaml entry"),
    "6000_Ada": ("rtx-6000-ada", "no gpus.yaml entry"),
    "A100_PCIe": ("a100-pcie-80gb", ""),
    "A100_SXM": ("a100-sxm4-80gb", ""),
    "A40": ("a40", ""),
    "A6000": ("rtx-a6000", ""),
    "H100_PCIe": ("h100-pcie", ""),
    "L40S": ("l40s", ""),
}
ROW = re.compile(r"\| llama (\d+B) (Q4_K - Medium|F16)\s*\|\s*([\d.]+) GiB \|\s*([\d.]+) B \|"
                 r" CUDA\s*\|\s*(\d+) \|\s*(pp ?512|tg ?512)\s*\|\s*([\d.]+) ±")


def git(repo, *args):
    return subprocess.check_output(["git", "-C", repo, *args]).decode()


def main():
    repo = sys.argv[1]
    head = git(repo, "rev-parse", "HEAD").strip()
    for prefix, (device, extra) in CARDS.items():
        path = f"LLaMA 3/Professional GPUs/{prefix}_v3.ipynb"
        notebook = json.loads(git(repo, "show", f"HEAD:{path}"))
        date = git(repo, "log", "-1", "--format=%cs", "--", path).strip()
        url = (f"https://github.com/XiongjieDai/GPU-Benchmarks-on-LLM-Inference/blob/{head}/"
               + path.replace(" ", "%20"))
        note = ("llama-bench -p 512,1024,4096,8192 -n 512,1024,4096,8192 on RunPod (README);"
                " decode column is tg512" + ("; " + extra if extra else ""))
        label = ""
        for cell in notebook["cells"]:
            for output in cell.get("outputs", []):
                text = "".join(output.get("text", []) or
                               output.get("data", {}).get("text/plain", []))
                pending = []
                for line in text.splitlines():
                    m = re.search(r"Device 0: (NVIDIA [^,]+, compute capability [0-9.]+)", line)
                    if m:
                        label = m.group(1)
                    m = ROW.match(line)
                    if m:
                        pending.append(m.groups())
                    m = re.match(r"build: (\S+ \(\d+\))", line)
                    if m:
                        for size, quant, gib, params, ngl, test, tps in pending:
                            model = {"8B": "llama 8B (Meta-Llama-3-8B)",
                                     "70B": "llama 70B (Meta-Llama-3-70B)"}[size]
                            quant = "Q4_K_M" if quant.startswith("Q4_K") else "F16"
                            print("\t".join([device, label, "", "CUDA", "1", model, quant, gib,
                                             params, ngl, "", test.replace(" ", ""), tps,
                                             m.group(1), date, url, note]))
                        pending = []


if __name__ == "__main__":
    main()
