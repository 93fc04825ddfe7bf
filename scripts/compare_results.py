#!/usr/bin/env python3
"""Checks that committed experiment results are what the code produces (docs/experiment.md, "Checking the figures").

  compare_results.py json EXPECTED.json GOT.json
      Exit 0 when the two results.json files are equal except the fields that measure time (any key named
      "seconds", "wall_s", "wall_seconds", "samples_per_second", "timing") and "command" (it names the output folder).
      Otherwise prints the first differences (path, committed value, produced value) and exits 1.

  compare_results.py readme FILE.md ROOT
      Every decimal number in a table row of a section (## or ###) of FILE.md that names examples/experiment/<name>/
      must be a number of that folder's results.md, rounded to FILE's decimals ("91.5" matches "91.48"; "2.11 M"
      matches 2114924). Prints each number that matches nothing and exits 1 if there is one.

Standard library only, so it runs without the test venv.
"""
import json
import math
import os
import re
import sys

IGNORED = {"seconds", "wall_s", "wall_seconds", "samples_per_second", "timing", "command"}


def diff(a, b, path, out):
    if len(out) >= 20:
        return
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k in IGNORED:
                continue
            if k not in a or k not in b:
                out.append(f"{path}/{k}: {'missing in the committed file' if k not in a else 'missing in the produced file'}")
                continue
            diff(a[k], b[k], f"{path}/{k}", out)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append(f"{path}: {len(a)} entries committed, {len(b)} produced")
            return
        for i, (x, y) in enumerate(zip(a, b)):
            diff(x, y, f"{path}[{i}]", out)
    elif a != b:
        out.append(f"{path}: committed {json.dumps(a)}, produced {json.dumps(b)}")


def compare_json(expected, got):
    with open(expected) as f:
        a = json.load(f)
    with open(got) as f:
        b = json.load(f)
    out = []
    diff(a, b, "", out)
    if out:
        print(f"{expected}: differs from what the code produces ({got}):")
        for line in out:
            print("  " + line)
        return 1
    print(f"{expected}: reproduced")
    return 0


NUMBER = re.compile(r"(?<![\w.])[-+]?\d[\d,]*\.\d+(?![\w.])( [kM](?![\w]))?")
SCALE = {" k": 1e3, " M": 1e6}
ANY_NUMBER = re.compile(r"(?<![\w.])[-+]?\d[\d,]*(?:\.\d+)?(?:e[-+]?\d+)?")
FOLDER = re.compile(r"examples/experiment/([\w-]+)")


def numbers(text):
    """The decimal numbers of `text` as (shown digits, scale): "2.11 M" is ("2.11", 1e6)."""
    return [(m.group(0)[: len(m.group(0)) - len(m.group(1) or "")].replace(",", ""), SCALE.get(m.group(1), 1.0))
            for m in NUMBER.finditer(text)]


def rounds_to(h, decimals, v):
    """h shown with `decimals` decimals is v, rounding ties either way (half up or half even)."""
    scale = 10 ** decimals
    lo, hi = math.floor(h * scale + 0.5 - 1e-9), math.ceil(h * scale - 0.5 + 1e-9)
    return any(abs(k / scale - v) < 0.5 / scale * 1e-6 for k in (lo, hi))


def check_readme(readme, root):
    with open(readme) as f:
        lines = f.read().split("\n")
    sections, cur = [], None
    for line in lines:
        if line.startswith("## ") or line.startswith("### "):
            cur = [line, []]
            sections.append(cur)
        elif cur is not None:
            cur[1].append(line)
    missing, checked = [], 0
    for head, body in sections:
        folders = sorted(set(FOLDER.findall("\n".join(body))))
        if not folders:
            continue
        have = []
        for name in folders:
            md = os.path.join(root, "examples/experiment", name, "results.md")
            if os.path.exists(md):
                with open(md) as f:
                    have += [float(x.replace(",", "")) for x in ANY_NUMBER.findall(f.read())]
        for line in body:
            if not line.startswith("|") or set(line) <= set("|-: "):
                continue
            for x, scale in numbers(line):
                decimals = len(x.split(".")[1])
                v = float(x)
                checked += 1
                if not any(rounds_to(h / scale, decimals, v) for h in have):
                    missing.append(f"{readme}: section \"{head.lstrip('#').strip()}\": {x} ({line.strip()[:80]}...) is in no number of "
                                   + ", ".join(f"examples/experiment/{n}/results.md" for n in folders))
    for m in missing:
        print(m)
    print(f"{readme}: {checked} table figures checked against the results files, {len(missing)} not found")
    return 1 if missing else 0


def main(argv):
    if len(argv) == 4 and argv[1] == "json":
        return compare_json(argv[2], argv[3])
    if len(argv) == 4 and argv[1] == "readme":
        return check_readme(argv[2], argv[3])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
