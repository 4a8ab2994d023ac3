#!/usr/bin/env python3
"""Markdown error table of the published CUDA logs from the JSON lines that
tests/accuracy/cuda_published_test.cpp writes to $VRAMPLAN_CUDA_PUBLISHED_OUT."""
import json
import sys

PARTS = ["gpu_weights", "host_weights", "gpu_kv", "host_kv", "gpu_compute", "host_compute"]
CLOSED = ["gpu_compute", "host_compute"]


def cell(part):
    if part["measured_mib"] == 0 and part["vramplan_mib"] == 0:
        return "-"
    mark = "" if part["holds"] else " **x**"
    return f"{part['measured_mib']:.2f} / {part['error_mib']:+.2f}{mark}"


def main(path):
    closed = [f"{p} (closed form)" for p in CLOSED]
    print("| record | match | " + " | ".join(PARTS + closed) + " |")
    print("|---|---|" + "---:|" * (len(PARTS) + len(closed)))
    with open(path, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            cells = [cell(r["parts"][p]) for p in PARTS]
            cells += [f"{r['parts'][p]['closed_form_error_mib']:+.2f}" for p in CLOSED]
            print(f"| {r['id']} | {r['match']} | " + " | ".join(cells) + " |")

if __name__ == "__main__":
    main(sys.argv[1])
