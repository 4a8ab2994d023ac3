#!/usr/bin/env python3
"""Checks a graph builder against llama.cpp's own graph (README.md in this folder).

  compare.py replay DUMP          replays ggml-alloc on each graph of a dump (llama.cpp's, from
                                  the patched probe, or vramplan_dump_graph's) and prints the
                                  buffer sizes in MiB: the allocator model vramplan implements
  compare.py diff THEIRS MINE     compares the first graph of two dumps node by node: kinds and
                                  sizes of the nodes the allocator owns, then their sources,
                                  views and output flags; prints the first differences

Weights and KV-cache views (memory the allocator does not own) are left out of the comparison;
views are compared as views (their sizes do not matter to the allocator).
"""
import re
import sys

INPLACE = {"FILL", "SCALE", "DIAG_MASK_ZERO", "DIAG_MASK_INF", "ADD", "ADD_ID", "ADD1", "SUB",
           "MUL", "DIV", "SQR", "SQRT", "LOG", "UNARY", "ROPE", "ROPE_BACK", "SILU_BACK",
           "RMS_NORM", "RMS_NORM_BACK", "CLAMP", "SOFT_MAX", "SOFT_MAX_BACK"}
VIEWS = {"VIEW", "RESHAPE", "PERMUTE", "TRANSPOSE"}
LINE = re.compile(r"(L|N) (\d+) (\S+) (.*?) op=(\S+) type=(\d+) ne=(\S+) bytes=(\d+) view=(\S+) "
                  r"ext=(\d) flags=(\d+) src=(.*)")
ALIGN = 32  # the CPU buffer type's alignment


def parse(path):
    graphs = []
    for line in open(path):
        if line.startswith("GRAPH"):
            graphs.append({"L": [], "N": []})
            continue
        m = LINE.match(line.rstrip())
        if not m:
            continue
        kind, _, ptr, name, op, typ, ne, size, view, ext, flags, src = m.groups()
        graphs[-1][kind].append({
            "ptr": ptr, "name": name, "op": op, "type": int(typ), "ne": ne, "bytes": int(size),
            "view": None if view == "(nil)" else view, "ext": ext == "1", "flags": int(flags),
            "src": [s for s in src.split(",") if s]})
    return graphs


def aligned(n):
    return (n + ALIGN - 1) // ALIGN * ALIGN


class Allocator:
    """ggml_dyn_tallocr with one chunk: best fit among the free blocks but the last, else the
    last (growing the buffer); freed ranges merge with their neighbours."""

    def __init__(self):
        self.blocks = [[0, 1 << 62]]
        self.high = 0

    def alloc(self, size):
        size = aligned(size)
        best, best_size = len(self.blocks) - 1, None
        for i, (_, free) in enumerate(self.blocks[:-1]):
            if free >= size and (best_size is None or free <= best_size):
                best, best_size = i, free
        block = self.blocks[best]
        offset = block[0]
        block[0] += size
        block[1] -= size
        if block[1] == 0:
            self.blocks.pop(best)
        self.high = max(self.high, offset + size)
        return offset

    def free(self, offset, size):
        size = aligned(size)
        b = self.blocks
        for i, block in enumerate(b):
            if block[0] + block[1] == offset:
                block[1] += size
                if i + 1 < len(b) and block[0] + block[1] == b[i + 1][0]:
                    block[1] += b.pop(i + 1)[1]
                return
            if offset + size == block[0]:
                block[0] = offset
                block[1] += size
                if i > 0 and b[i - 1][0] + b[i - 1][1] == block[0]:
                    b[i - 1][1] += b.pop(i)[1]
                return
        at = 0
        while at < len(b) and b[at][0] < offset:
            at += 1
        b.insert(at, [offset, size])


def replay(graph):
    """ggml_gallocr_alloc_graph_impl; returns the high-water mark in bytes."""
    t = {x["ptr"]: x for x in graph["L"] + graph["N"]}
    for x in t.values():
        x.update(children=0, views=0, owned=False, offset=None)
    a = Allocator()

    def allocate(x):
        if x["ext"] or x["owned"] or x["view"]:
            return
        x["owned"] = True
        if x["op"] in INPLACE:
            for p in (t[s] for s in x["src"]):
                # views are never owned, so only a plain source can be taken over
                if not p["owned"] or p["flags"] & 2 or p["type"] != x["type"] or p["ne"] != x["ne"]:
                    continue
                if p["children"] == 1 and p["views"] == 0:
                    x["offset"], p["owned"] = p["offset"], False
                    if aligned(p["bytes"]) > aligned(x["bytes"]):
                        a.free(p["offset"] + aligned(x["bytes"]),
                               aligned(p["bytes"]) - aligned(x["bytes"]))
                    return
        x["offset"] = a.alloc(x["bytes"])

    def release(x):
        if not x["flags"] & 2 and x["owned"]:
            a.free(x["offset"], x["bytes"])
            x["owned"] = False

    for leaf in graph["L"]:
        allocate(leaf)
    for n in graph["N"]:
        if n["view"] and n["op"] != "NONE":
            t[n["view"]]["views"] += 1
        for s in n["src"]:
            t[s]["children"] += 1
    for n in graph["N"]:
        for s in n["src"]:
            allocate(t[s])
        allocate(n)
        for s in n["src"]:
            p = t[s]
            p["children"] -= 1
            if p["children"] or p["views"]:
                continue
            if p["view"]:
                root = t[p["view"]]
                root["views"] -= 1
                if root["views"] == 0 and root["children"] == 0:
                    release(root)
            else:
                release(p)
    return a.high


# Nodes with more sources than a graph::Tensor holds (four): vramplan keeps the ones listed and
# a store right after the node keeps the others alive. The fused Gated DeltaNet's gate and beta
# (its 4th and 5th sources; graph_qwen3next.inc).
SOURCES_KEPT = {"GATED_DELTA_NET": (0, 1, 2, 5)}


def owned_nodes(graph):
    for x in graph["N"]:
        keep = SOURCES_KEPT.get(x["op"])
        if keep and len(x["src"]) > max(keep):  # llama.cpp's node, with all its sources
            x["src"] = [x["src"][i] for i in keep]
    nodes = [x for x in graph["N"] if not x["ext"]]
    leaves = [x for x in graph["L"] if not x["ext"]]
    index = {x["ptr"]: ("N", i) for i, x in enumerate(nodes)}
    index.update({x["ptr"]: ("L", i) for i, x in enumerate(leaves)})
    rows = []
    for x in nodes:
        view = x["op"] in VIEWS
        # ggml_cast (a CPY into a new tensor: the encoders' F16 K and V before flash attention)
        # is a CONT of that type in vramplan's graph: to the allocator both are a new tensor
        # (the cast's second source, itself, frees nothing earlier).
        kind = "VIEW" if view else "CONT" if x["op"] == "CPY" else x["op"]
        rows.append({"name": x["name"], "kind": kind,
                     "bytes": 0 if view else x["bytes"],
                     # ggml_cast's node is its own second source (ggml_cpy's destination)
                     "src": [index[s] for s in x["src"] if s in index and s != x["ptr"]],
                     "view": index.get(x["view"]) if x["view"] else None,
                     "output": bool(x["flags"] & 2)})
    return [x["bytes"] for x in leaves], rows


def diff(theirs, mine):
    (lt, nt), (lm, nm) = owned_nodes(theirs), owned_nodes(mine)
    problems = 0
    if lt != lm:
        print(f"inputs differ:\n  llama.cpp {lt}\n  vramplan  {lm}")
        problems += 1
    if len(nt) != len(nm):
        print(f"node counts differ: llama.cpp {len(nt)}, vramplan {len(nm)}")
        problems += 1
    for i, (a, b) in enumerate(zip(nt, nm)):
        for key in ("kind", "bytes", "src", "view", "output"):
            if a[key] != b[key]:
                print(f"node {i} ({a['name']}): {key} llama.cpp {a[key]} vramplan {b[key]}")
                problems += 1
                break
        if problems >= 10:
            break
    print("graphs match" if problems == 0 else f"{problems} difference(s) shown")
    return problems == 0


def main(argv):
    if len(argv) == 3 and argv[1] == "replay":
        print(" ".join(f"{replay(g) / 2**20:.4f}" for g in parse(argv[2])), "MiB")
        return 0
    if len(argv) == 4 and argv[1] == "diff":
        return 0 if diff(parse(argv[2])[0], parse(argv[3])[0]) else 1
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
