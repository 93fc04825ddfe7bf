#!/usr/bin/env python3
"""Independent float reference for `xbar import`: simulates a NIR graph directly, node by node, with numpy.

It reads the file with the reference reader (Python `nir`), evaluates every node on tensors in its own shape
(convolutions and pools as convolutions, not as unrolled matrices), and uses the discretisation written in
docs/nir.md. Comparing its spike counts with the software twin or an ideal-target emulation of the imported
graph checks the importer's unrolling, composition, delays, recurrence and neuron mapping end to end.

usage: nir_reference.py FILE.nir EVENTS.xev --dt S --reset zero|subtract [--discretisation exact|euler]
                        [--samples N] [--timesteps T]
prints one line per sample: "sample K", with --spikes its "spike NODE STEP NEURON" lines, then per spiking node in
name order "NODE COUNT0 COUNT1 ...".
"""
import argparse
import math
import sys

import nir
import numpy as np


def read_xev(path):
    with open(path) as f:
        lines = [l.split("#")[0].strip() for l in f]
    lines = [l for l in lines if l]
    channels = int(lines[1].split()[1])
    steps = int(lines[2].split()[1])
    samples, i = [], 4
    while i < len(lines):
        assert lines[i].startswith("sample"), lines[i]
        raster = np.zeros((steps, channels), dtype=np.float64)
        i += 1
        while lines[i] != "end":
            t, rest = lines[i].split(":")
            for c in rest.split():
                raster[int(t), int(c)] = 1
            i += 1
        samples.append(raster)
        i += 1
    return samples


def flatten_graph(g, prefix=""):
    """Inlines nested graphs: nodes named parent.child; nested Input/Output nodes become identities."""
    nodes, edges = {}, []
    for name, node in g.nodes.items():
        full = prefix + name
        if isinstance(node, nir.NIRGraph):
            sub_nodes, sub_edges = flatten_graph(node, full + ".")
            nodes.update(sub_nodes)
            edges += sub_edges
        else:
            nodes[full] = node
    def resolve(end, outgoing):
        full = prefix + end
        if full in nodes:
            return full
        sub = g.nodes.get(end)
        if isinstance(sub, nir.NIRGraph):
            kind = nir.Output if outgoing else nir.Input
            ports = [k for k, v in sub.nodes.items() if isinstance(v, kind)]
            assert len(ports) == 1, f"nested graph {full} needs one {kind.__name__}"
            return full + "." + ports[0]
        return full
    for a, b in g.edges:
        edges.append((resolve(a, True), resolve(b, False)))
    return nodes, edges


def coefficients(tau, dt, mode):
    """(decay, gain) for tau dv/dt = -v + x held over one step."""
    tau = np.asarray(tau, dtype=np.float64)
    if mode == "exact":
        d = np.exp(-dt / tau)
        return d, 1 - d
    return 1 - dt / tau, dt / tau


def conv2d(x, node):
    w = np.asarray(node.weight, dtype=np.float64)
    co, cig, kh, kw = w.shape
    stride = np.broadcast_to(np.asarray(node.stride), (2,))
    pad = np.broadcast_to(np.asarray(node.padding), (2,))
    dil = np.broadcast_to(np.asarray(node.dilation), (2,))
    groups = int(node.groups)
    ci, h, wd = x.shape
    xp = np.zeros((ci, h + 2 * pad[0], wd + 2 * pad[1]))
    xp[:, pad[0]:pad[0] + h, pad[1]:pad[1] + wd] = x
    oh = (h + 2 * pad[0] - dil[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (wd + 2 * pad[1] - dil[1] * (kw - 1) - 1) // stride[1] + 1
    out = np.zeros((co, oh, ow))
    per = co // groups
    for o in range(co):
        gi = o // per
        for c in range(cig):
            src = xp[gi * cig + c]
            for i in range(kh):
                for j in range(kw):
                    out[o] += w[o, c, i, j] * src[i * dil[0]: i * dil[0] + stride[0] * (oh - 1) + 1: stride[0],
                                                  j * dil[1]: j * dil[1] + stride[1] * (ow - 1) + 1: stride[1]]
    b = np.asarray(node.bias, dtype=np.float64)
    return out + (b.reshape(-1, 1, 1) if b.size == co else b)


def pool2d(x, node, average):
    k = np.broadcast_to(np.asarray(node.kernel_size), (2,))
    s = np.broadcast_to(np.asarray(node.stride), (2,))
    p = np.broadcast_to(np.asarray(node.padding), (2,))
    c, h, w = x.shape
    xp = np.zeros((c, h + 2 * p[0], w + 2 * p[1]))
    xp[:, p[0]:p[0] + h, p[1]:p[1] + w] = x
    oh = (h + 2 * p[0] - k[0]) // s[0] + 1
    ow = (w + 2 * p[1] - k[1]) // s[1] + 1
    out = np.zeros((c, oh, ow))
    for i in range(k[0]):
        for j in range(k[1]):
            out += xp[:, i: i + s[0] * (oh - 1) + 1: s[0], j: j + s[1] * (ow - 1) + 1: s[1]]
    return out / (k[0] * k[1]) if average else out


class Neuron:
    """State and update of one neuron node, per docs/nir.md (inputs held over the step; reset at step end)."""

    def __init__(self, node, dt, mode, reset):
        self.node, self.reset = node, reset
        t = type(node).__name__
        self.kind = t
        self.spiking = t in ("LIF", "IF", "CubaLIF", "Threshold")
        self.v, self.c = 0.0, 0.0
        if t in ("LIF", "LI"):
            self.d, k = coefficients(node.tau, dt, mode)
            self.gain, self.leak = np.asarray(node.r) * k, k * np.asarray(node.v_leak)
        elif t in ("IF", "I"):
            self.d, self.gain, self.leak = 1.0, np.asarray(node.r) * dt, 0.0
        elif t in ("CubaLIF", "CubaLI"):
            self.ds, ks = coefficients(node.tau_syn, dt, mode)
            self.d, km = coefficients(node.tau_mem, dt, mode)
            self.sgain = ks * np.asarray(node.w_in)
            self.gain, self.leak = km * np.asarray(node.r), km * np.asarray(node.v_leak)
        if hasattr(node, "v_threshold"):
            self.th = np.asarray(node.v_threshold, dtype=np.float64)
        elif t == "Threshold":
            self.th = np.asarray(node.threshold, dtype=np.float64)

    def step(self, x):
        if self.kind == "Threshold":
            return (x > self.th).astype(np.float64)
        if self.kind in ("CubaLIF", "CubaLI"):
            self.c = self.ds * self.c + self.sgain * x
            v = self.d * self.v + self.gain * self.c + self.leak
        else:
            v = self.d * self.v + self.gain * x + self.leak
        if not self.spiking:
            self.v = v
            return v
        s = (v > self.th).astype(np.float64)
        self.v = np.where(s > 0, 0.0 if self.reset == "zero" else v - self.th, v)
        return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("nir_file")
    ap.add_argument("events")
    ap.add_argument("--dt", type=float, required=True)
    ap.add_argument("--reset", choices=["zero", "subtract"], required=True)
    ap.add_argument("--discretisation", choices=["exact", "euler"], default="exact")
    ap.add_argument("--samples", type=int, default=None)
    ap.add_argument("--timesteps", type=int, default=None)
    ap.add_argument("--spikes", action="store_true", help="also print 'spike NODE STEP NEURON' lines")
    a = ap.parse_args()

    nodes, edges = flatten_graph(nir.read(a.nir_file))
    preds = {n: [] for n in nodes}
    for s, t in edges:
        preds[t].append(s)
    inputs = sorted(n for n, v in nodes.items() if isinstance(v, nir.Input))
    delays = {n: np.rint(np.asarray(v.delay) / a.dt).astype(int) for n, v in nodes.items() if isinstance(v, nir.Delay)}
    # A Delay whose every element waits at least one step depends only on earlier steps: its output is computed at
    # the start of the step, so a cycle through it needs no extra step (docs/nir.md). Cycles without such a Delay:
    # the edge that closes them in a depth-first walk from the inputs reads the previous step.
    pure = {n for n, d in delays.items() if d.size > 0 and d.min() >= 1}
    back, state, order = set(), {}, []
    succ = {n: [t for s, t in edges if s == n and t not in pure] for n in nodes}
    def visit(n):
        state[n] = 1
        for m in succ[n]:
            if state.get(m) == 1:
                back.add((n, m))
            elif m not in state:
                visit(m)
        state[n] = 2
        order.append(n)
    for i in inputs + sorted(pure):
        if i not in state:
            visit(i)
    for n in sorted(nodes):
        if n not in state:
            visit(n)
    order.reverse()

    samples = read_xev(a.events)[: a.samples]
    spiking = sorted(n for n, v in nodes.items() if type(v).__name__ in ("LIF", "IF", "CubaLIF", "Threshold"))
    for k, raster in enumerate(samples):
        steps = a.timesteps or raster.shape[0]
        neurons = {n: Neuron(v, a.dt, a.discretisation, a.reset) for n, v in nodes.items()
                   if type(v).__name__ in ("LIF", "IF", "CubaLIF", "Threshold", "LI", "I", "CubaLI")}
        prev = {n: None for n in nodes}
        history = {n: [] for n in delays}
        counts = {n: 0 for n in spiking}
        spikes = []
        for t in range(steps):
            out = {}
            for n in pure:
                d, h = delays[n], history[n]
                out[n] = np.array([h[-d[i]][i] if len(h) >= d[i] else 0.0 for i in range(d.size)])
            for n in order:
                v = nodes[n]
                if n in pure:
                    continue
                if isinstance(v, nir.Input):
                    shape = tuple(np.asarray(v.input_type["input"]).astype(int))
                    frame = raster[t] if t < raster.shape[0] else np.zeros(raster.shape[1])
                    out[n] = frame.reshape(shape)
                    continue
                xs = []
                for p in preds[n]:
                    y = prev[p] if (p, n) in back else out[p]
                    if y is None and isinstance(nodes[p], nir.Affine):
                        y = np.asarray(nodes[p].bias, dtype=np.float64)  # step 0: a bias is a constant current
                    if y is not None:
                        xs.append(y)
                x = sum(xs) if xs else 0.0
                if n in neurons:
                    out[n] = neurons[n].step(np.asarray(x, dtype=np.float64))
                    if n in counts:
                        counts[n] = counts[n] + out[n]
                        if a.spikes:
                            spikes += [f"spike {n} {t} {i}" for i in np.flatnonzero(out[n])]
                elif isinstance(v, nir.Affine):
                    out[n] = np.asarray(v.weight) @ np.ravel(x) + np.asarray(v.bias)
                elif isinstance(v, nir.Linear):
                    out[n] = np.asarray(v.weight) @ np.ravel(x)
                elif isinstance(v, nir.Scale):
                    out[n] = np.asarray(v.scale) * x
                elif isinstance(v, nir.Conv2d):
                    out[n] = conv2d(x, v)
                elif isinstance(v, nir.SumPool2d):
                    out[n] = pool2d(x, v, False)
                elif isinstance(v, nir.AvgPool2d):
                    out[n] = pool2d(x, v, True)
                elif isinstance(v, nir.Flatten):
                    out[n] = np.ravel(x)
                elif isinstance(v, nir.Delay):
                    history[n].append(np.ravel(x))
                    d = delays[n]
                    out[n] = np.array([history[n][-1 - d[i]][i] if len(history[n]) > d[i] else 0.0
                                       for i in range(d.size)])
                elif isinstance(v, nir.Output):
                    out[n] = x
                else:
                    sys.exit(f"nir_reference: node {n}: {type(v).__name__} is not simulated")
            for n in pure:  # what the pure delays saw this step, for later steps
                xs = [out[p] for p in preds[n]]
                history[n].append(np.ravel(sum(xs)) if xs else np.zeros(delays[n].size))
            prev = out
        print(f"sample {k}")
        for line in spikes:
            print(line)
        for n in spiking:
            print(n, " ".join(str(int(c)) for c in np.ravel(counts[n])))


if __name__ == "__main__":
    main()
