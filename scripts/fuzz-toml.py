#!/usr/bin/env python3
"""Black-box mutation fuzzing of the TOML readers (target and sweep files) through the CLI.

    python3 scripts/fuzz-toml.py RUNS [SEED] [XBAR]

Each run mutates a bundled target or sweep file (1-6 character edits biased to TOML syntax), runs
`xbar device FILE` or `xbar sweep plan FILE` with a 5 s timeout, and counts runs that end in a signal,
an assertion or a hang. Crashing inputs are written to fuzz-toml-crashes/. Exit status 1 when any run crashed.
"""
import collections, os, random, subprocess, sys, tempfile

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
runs = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
random.seed(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
xbar = sys.argv[3] if len(sys.argv) > 3 else os.path.join(root, ".build/release/xbar")
seeds = [(os.path.join(root, "targets/rram-40nm-256kb.toml"), "target"),
         (os.path.join(root, "examples/sweep/adc-sharing.toml"), "sweep")]
texts = [(open(p).read(), kind, os.path.dirname(p)) for p, kind in seeds]
alphabet = list("[]{}=.,\"'#\n \t0123456789abcxyz_-+:") + ['"""', "'''", "[[", "]]", "inf", "nan", "true"]


def mutate(s):
    s = list(s)
    for _ in range(random.randint(1, 6)):
        i = random.randrange(len(s) + 1)
        op = random.random()
        if op < 0.4 and s:
            s[min(i, len(s) - 1)] = random.choice(alphabet)
        elif op < 0.7:
            s.insert(i, random.choice(alphabet))
        elif s:
            del s[min(i, len(s) - 1)]
    return "".join(s)


crashes, examples = collections.Counter(), {}
for k in range(runs):
    text, kind, folder = texts[k % len(texts)]
    text = mutate(text)
    # Sweep files name their graph and input relative to themselves: write beside the original.
    fd, path = tempfile.mkstemp(suffix=".toml", dir=folder if kind == "sweep" else None)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    cmd = [xbar, "device", path, "--cells", "4"] if kind == "target" else [xbar, "sweep", "plan", path]
    try:
        r = subprocess.run(cmd, capture_output=True, timeout=5, text=True)
        if r.returncode < 0 or r.returncode >= 128 or "Assertion" in r.stderr or "crashed" in r.stderr:
            lines = [l for l in r.stderr.splitlines() if "Assertion" in l or "Fatal" in l or "crashed" in l]
            key = lines[0][:200] if lines else "exit status %d" % r.returncode
            crashes[key] += 1
            examples.setdefault(key, text)
    except subprocess.TimeoutExpired:
        crashes["timeout"] += 1
        examples.setdefault("timeout", text)
    finally:
        os.remove(path)
print("%d runs, %d crashes or hangs" % (runs, sum(crashes.values())))
for key, n in crashes.most_common():
    print(n, key)
if examples:
    os.makedirs("fuzz-toml-crashes", exist_ok=True)
    for i, t in enumerate(examples.values()):
        open("fuzz-toml-crashes/%d.toml" % i, "w").write(t)
sys.exit(1 if crashes else 0)
