#!/usr/bin/env python3
"""Interim readout trainer for the bundled example (until `xbar lsm train` lands).

Reads spike rasters written by `xbar emulate --raster` for a training set, fits a ridge-regression
readout on per-neuron spike counts (one-hot targets, lambda given), and writes the weights into the
graph's `readout`. Usage:
  train_readout.py GRAPH TRAIN_RASTER.csv TRAIN.xev [--lam 1.0]
"""
import json, sys
import numpy as np

def counts(raster, n_samples, n_neurons, pop):
    c = np.zeros((n_samples, n_neurons))
    with open(raster) as f:
        next(f)
        for line in f:
            s, p, t, n = line.rstrip().split(",")
            if p == pop:
                c[int(s), int(n)] += 1
    return c

def labels(xev):
    out = []
    for line in open(xev):
        if line.startswith("sample "):
            tok = line.split()
            out.append(int(tok[3]))
    return np.array(out)

graph, raster, xev = sys.argv[1:4]
lam = float(sys.argv[sys.argv.index("--lam") + 1]) if "--lam" in sys.argv else 1.0
g = json.load(open(graph))
pop = g["readout"]["from"]
n = next(p["size"] for p in g["populations"] if p["name"] == pop)
k = g["readout"]["classes"]
y = labels(xev)
X = counts(raster, len(y), n, pop)
Y = np.eye(k)[y]
Xb = np.hstack([X, np.ones((len(y), 1))])
W = np.linalg.solve(Xb.T @ Xb + lam * np.eye(n + 1), Xb.T @ Y)  # (n+1) x k
print("train accuracy %.4f" % np.mean(np.argmax(Xb @ W, 1) == y), file=sys.stderr)
g["readout"]["weights"] = [[float("%.6g" % v) for v in W[:n, c]] for c in range(k)]
g["readout"]["bias"] = [float("%.6g" % v) for v in W[n, :]]
text = open(graph).read()
json.dump(g, open(graph + ".tmp", "w"), indent=1)
import os; os.replace(graph + ".tmp", graph)
