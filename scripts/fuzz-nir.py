#!/usr/bin/env python3
"""Black-box mutation fuzzing of the NIR (HDF5) reader through the CLI.

    python3 scripts/fuzz-nir.py RUNS [SEED] [XBAR] [OUT]

Each run overwrites 1-8 bytes of a bundled .nir file (random values, or 0x00/0xFF/0x7F runs) and runs
`xbar import FILE --dt 1e-4 --reset zero` with a 10 s timeout. Runs that end in a signal, an abort, a hang or more
than one stderr line are counted; their inputs are written to OUT (default fuzz-nir-crashes/). Exit status 1 when any.
"""
import collections, os, random, subprocess, sys, tempfile, time

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
runs = int(sys.argv[1]) if len(sys.argv) > 1 else 500
random.seed(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
xbar = sys.argv[3] if len(sys.argv) > 3 else os.path.join(root, ".build/release/xbar")
out_dir = sys.argv[4] if len(sys.argv) > 4 else "fuzz-nir-crashes"
seeds = [os.path.join(root, "examples/nir", f) for f in ["lif_norse.nir", "two_lif_neurons.nir", "braille_noDelay_bias_zero.nir"]]
blobs = [open(p, "rb").read() for p in seeds]

crashes, examples, slowest = collections.Counter(), {}, 0.0
for k in range(runs):
    data = bytearray(random.choice(blobs))
    for _ in range(random.randint(1, 8)):
        i = random.randrange(len(data))
        if random.random() < 0.5:
            data[i] = random.randrange(256)
        else:
            v = random.choice([0x00, 0xFF, 0x7F, 0x80])
            for j in range(i, min(len(data), i + random.randint(1, 8))):
                data[j] = v
    fd, path = tempfile.mkstemp(suffix=".nir")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    t0 = time.time()
    try:
        r = subprocess.run([xbar, "import", path, "--dt", "1e-4", "--reset", "zero", "-o", os.devnull],
                           capture_output=True, timeout=10, text=True, errors="replace")
        err = [l for l in r.stderr.splitlines() if l.startswith("error")]
        if r.returncode < 0 or r.returncode >= 128 or (r.returncode != 0 and len(err) != 1):
            key = "signal %d" % -r.returncode if r.returncode < 0 else "exit %d: %s" % (r.returncode, r.stderr.strip().splitlines()[:1])
            crashes[key[:160]] += 1
            examples.setdefault(key[:160], bytes(data))
    except subprocess.TimeoutExpired:
        crashes["hang (no result in 10 s)"] += 1
        examples.setdefault("hang (no result in 10 s)", bytes(data))
    slowest = max(slowest, time.time() - t0)
    os.remove(path)
print("%d runs, %d crashes or hangs, slowest %.1f s" % (runs, sum(crashes.values()), slowest))
for key, n in crashes.most_common():
    print(n, key)
if examples:
    os.makedirs(out_dir, exist_ok=True)
    for i, d in enumerate(examples.values()):
        open(os.path.join(out_dir, "%d.nir" % i), "wb").write(d)
sys.exit(1 if crashes else 0)
