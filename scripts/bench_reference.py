#!/usr/bin/env python3
"""Performance references for `xbar bench --reference` (docs/bench.md). Not part of the product.

Both read the network from a NIR file written by `xbar export` (same weights as the emulated chip) and the input
raster from an `.xev` file written by `xbar bench` (same spikes), and time only the simulation loop:

  numpy   the seed paper's own way of computing its LSM: all samples in lockstep, one float32 matrix product
          [x; h_prev] @ [W_in; W_rec] per step on NumPy/OpenBLAS, then mem = mem * decay * (1 - spike) + I,
          spike = mem > threshold.
  brian2  Brian2 `cpp_standalone` (compiled C++, OpenMP threads as given): SpikeGeneratorGroup -> Synapses
          (on_pre v += w) -> NeuronGroup (dv/dt = -v/tau, exact integration, threshold, reset 0); the samples run
          back to back with v reset at every sample boundary. Timed: the standalone binary's run.

The network must be one Input, one LIF node, a Linear from the input and a Linear through a one-step Delay back
into the LIF (the shape of `xbar lsm paper|nalsm`). Prints one JSON object on stdout.

Ordering note: Brian2 applies a step's synaptic input after that step's state update, so its membrane is
v[t+1] = decay * (v[t] + I[t]) where the emulator computes v[t] = decay * v[t-1] + I[t]: the same work, spike counts
close but not equal. The numpy reference follows the emulator's order exactly.
"""
import argparse
import json
import os
import sys
import time


def read_events(path):
    """The .xev grammar of docs/events.md: returns (channels, timesteps, [[active channels per step] per sample])."""
    with open(path) as f:
        lines = [l.split() for l in f if l.strip() and not l.lstrip().startswith("#")]
    assert lines[0] == ["xbar-events", "1"], f"{path}: not an xbar-events 1 file"
    channels, timesteps, n = int(lines[1][1]), int(lines[2][1]), int(lines[3][1])
    samples, cur = [], None
    for tok in lines[4:]:
        if tok[0] == "sample":
            cur = [[] for _ in range(timesteps)]
        elif tok[0] == "end":
            samples.append(cur)
        else:
            cur[int(tok[0].rstrip(":"))] = [int(c) for c in tok[1:]]
    assert len(samples) == n, f"{path}: {len(samples)} samples, header says {n}"
    return channels, timesteps, samples


def read_lsm(path, dt):
    """(W_in [pre, post], W_rec [post, post], decay per neuron, threshold per neuron) of an exported LSM."""
    import h5py
    import numpy as np
    with h5py.File(path, "r") as f:
        nodes = f["node/nodes"]
        kinds = {k: nodes[k]["type"][()].decode() for k in nodes}
        edges = [(a.decode(), b.decode()) for a, b in f["node/edges"][()]]
        lif = [k for k, t in kinds.items() if t == "LIF"]
        inp = [k for k, t in kinds.items() if t == "Input"]
        if len(lif) != 1 or len(inp) != 1:
            sys.exit(f"{path}: expected one Input and one LIF node, got {kinds}")
        lif, inp = lif[0], inp[0]
        src = {b: a for a, b in edges}
        w_in = w_rec = None
        for k, t in kinds.items():
            if t != "Linear":
                continue
            w = np.asarray(nodes[k]["weight"][()], dtype=np.float64).T  # [pre, post]
            if src.get(k) == inp:
                w_in = w
            elif kinds.get(src.get(k)) == "Delay" and src.get(src[k]) == lif:
                w_rec = w
        if w_in is None or w_rec is None:
            sys.exit(f"{path}: expected Linear(Input -> LIF) and Linear(LIF -> Delay -> LIF)")
        tau = np.asarray(nodes[lif]["tau"][()])
        thr = np.asarray(nodes[lif]["v_threshold"][()])
    return w_in, w_rec, np.exp(-dt / tau), thr


def run_numpy(args):
    import numpy as np
    channels, T, samples = read_events(args.events)
    w_in, w_rec, decay, thr = read_lsm(args.nir, args.dt)
    B, n_in, n = len(samples), w_in.shape[0], w_in.shape[1]
    x = np.zeros((T, B, n_in + n), dtype=np.float32)
    for s, steps in enumerate(samples):
        for t, act in enumerate(steps):
            x[t, s, act] = 1.0
    w = np.concatenate([w_in, w_rec]).astype(np.float32)
    decay = decay.astype(np.float32)
    thr = thr.astype(np.float32)
    best, spikes = float("inf"), 0
    for _ in range(args.repeats):
        start = time.perf_counter()
        mem = np.zeros((B, n), dtype=np.float32)
        spk = np.zeros((B, n), dtype=np.float32)
        counts = np.zeros((B, n), dtype=np.float32)
        for t in range(T):
            x[t, :, n_in:] = spk
            mem = mem * decay * (1.0 - spk) + x[t] @ w
            spk = (mem > thr).astype(np.float32)
            counts += spk
        best = min(best, time.perf_counter() - start)
        spikes = int(counts.sum())
    return {"reference": "numpy float32 batched (OpenBLAS)", "samples": B, "seconds": best,
            "samples_per_second": B / best, "spikes": spikes}


def run_brian2(args):
    import numpy as np
    import brian2 as b2
    channels, T, samples = read_events(args.events)
    w_in, w_rec, decay, thr = read_lsm(args.nir, args.dt)
    n_in, n = w_in.shape
    workdir = args.workdir
    b2.set_device("cpp_standalone", directory=workdir, build_on_run=False)
    b2.prefs.devices.cpp_standalone.openmp_threads = args.threads if args.threads > 1 else 0
    b2.prefs.logging.console_log_level = "ERROR"
    dt = args.dt * b2.second
    b2.defaultclock.dt = dt
    idx, times = [], []
    for s, steps in enumerate(samples):
        for t, act in enumerate(steps):
            idx.extend(act)
            times.extend([s * T + t] * len(act))
    inp = b2.SpikeGeneratorGroup(n_in, np.asarray(idx, dtype=np.int64), np.asarray(times) * dt)
    g = b2.NeuronGroup(n, "dv/dt = -v/tau : 1\ntau : second\nthr : 1", threshold="v > thr", reset="v = 0",
                       method="exact", namespace={})
    g.tau = -args.dt / np.log(decay) * b2.second
    g.thr = thr
    g.run_regularly("v = 0", dt=T * dt, when="start")
    s_in = b2.Synapses(inp, g, "w : 1", on_pre="v += w")
    pre, post = np.nonzero(w_in)
    s_in.connect(i=pre, j=post)
    s_in.w = w_in[pre, post]
    s_rec = b2.Synapses(g, g, "w : 1", on_pre="v += w")
    pre, post = np.nonzero(w_rec)
    s_rec.connect(i=pre, j=post)
    s_rec.w = w_rec[pre, post]
    mon = b2.SpikeMonitor(g, record=False)
    b2.run(len(samples) * T * dt)
    b2.device.build(directory=workdir, compile=True, run=False)
    best = float("inf")
    for _ in range(args.repeats):
        start = time.perf_counter()
        b2.device.run(directory=workdir, with_output=False, run_args=[])
        best = min(best, time.perf_counter() - start)
    return {"reference": f"Brian2 {b2.__version__} cpp_standalone", "samples": len(samples), "seconds": best,
            "samples_per_second": len(samples) / best, "spikes": int(mon.num_spikes), "synapses": int(len(s_in) + len(s_rec))}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("engine", choices=["numpy", "brian2"])
    ap.add_argument("--nir", required=True)
    ap.add_argument("--events", required=True)
    ap.add_argument("--dt", type=float, default=1e-3, help="the dt the NIR file was exported with (s)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--workdir", default="brian2_standalone", help="Brian2 build folder")
    args = ap.parse_args()
    out = run_numpy(args) if args.engine == "numpy" else run_brian2(args)
    out["threads"] = args.threads
    print(json.dumps(out))


if __name__ == "__main__":
    main()
