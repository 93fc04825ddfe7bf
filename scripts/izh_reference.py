#!/usr/bin/env python3
"""Independent exact reference of the fixed-point Izhikevich update of docs/ir.md
("#### `izhikevich` (Izhikevich 2003, fixed point)"), and a generator of vector files for rtl/xbar_izh_tb.v.

The update itself uses Python integers only (arbitrary precision, no floats): every division by a power of
two is round_RND (docs/ir.md "Values and types"), every fit is sat. Floats are used only to draw and quantise
the neuron parameters and the inputs.

Vector file (decimal, whitespace separated; docs/rtl-izhikevich.md):
    N T H F G Q S PK RND VB UB CB
    a b c d bias v0 u0                      N lines, neuron i
    I vtrace v u spike count                T*N lines, step-major then neuron: the input of neuron i at
                                            step t and the expected state after the step
RND: 0 floor, 1 trunc, 2 half_up, 3 half_even.

Example:
    python3 scripts/izh_reference.py --out izh_vectors.txt --neurons 20 --steps 500 --seed 1
"""

import argparse
import math
import random
import sys

ROUNDINGS = {"floor": 0, "trunc": 1, "half_up": 2, "half_even": 3}


# ---- semantics (docs/ir.md), integers only -------------------------------------------------------------------

def round_div(n, d, mode):
    """round_mode(n / d) for an integer n and a positive integer d, as defined in docs/ir.md."""
    assert d > 0
    if mode == 0:                       # floor: largest integer <= n/d
        return n // d
    if mode == 1:                       # trunc: toward zero
        q = abs(n) // d
        return q if n >= 0 else -q
    if mode == 2:                       # half_up: floor((2n + d) / (2d))
        return (2 * n + d) // (2 * d)
    if mode == 3:                       # half_even: nearest, ties to the even quotient
        q, r = divmod(n, d)             # n = q d + r, 0 <= r < d
        if 2 * r > d or (2 * r == d and q % 2 != 0):
            q += 1
        return q
    raise ValueError(mode)


def sat_signed(x, bits):
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return min(max(x, lo), hi)


def sat_unsigned(x, bits):
    return min(max(x, 0), (1 << bits) - 1)


def izh_step(cfg, nrn, v, u, count, I, stats=None):
    """One timestep of one neuron. Returns (vtrace, v, u, spike, count). stats (a dict) counts the fits that
    changed a value, by site (v, u, count), like the exact engine's overflow report."""
    def fit(x, bits, site, signed=True):
        y = sat_signed(x, bits) if signed else sat_unsigned(x, bits)
        if stats is not None and y != x:
            key = site + ("+" if x > y else "-")   # v+: clipped at the maximum, v-: at the minimum
            stats[key] = stats.get(key, 0) + 1
        return y

    F, G, H, Q, S, PK, R = cfg["F"], cfg["G"], cfg["H"], cfg["Q"], cfg["S"], cfg["PK"], cfg["RND"]
    VB, UB, CB = cfg["VB"], cfg["UB"], cfg["CB"]
    a, b, c, d, bias = nrn["a"], nrn["b"], nrn["c"], nrn["d"], nrn["bias"]
    K = 1 << H
    x = I + bias
    vv, uu, fired = v, u, False
    for _ in range(K):
        if not fired:
            q = round_div(vv * vv, 1 << F, R)
            q = round_div(q * Q, 1 << S, R)
            dv = q + 5 * vv + 140 * (1 << F) - uu + x
            vv = fit(vv + round_div(dv, 1 << H, R), VB, "v")
            bv = round_div(b * vv, 1 << G, R)
            uu = fit(uu + round_div(a * (bv - uu), 1 << (G + H), R), UB, "u")
            fired = vv >= PK
    vtrace = vv
    if fired:
        v, u = c, fit(uu + d, UB, "u")
    else:
        v, u = vv, uu
    spike = 1 if fired else 0
    count = fit(count + spike, CB, "count", signed=False)
    return vtrace, v, u, spike, count


# ---- neuron and input generation ----------------------------------------------------------------------------

CLASSIC = [  # Izhikevich 2003, Fig. 2
    ("RS", 0.02, 0.2, -65.0, 8.0),
    ("FS", 0.1, 0.2, -65.0, 2.0),
    ("CH", 0.02, 0.2, -50.0, 2.0),
    ("IB", 0.02, 0.2, -55.0, 4.0),
]


def qround(x):
    """Round half away from zero (parameter quantisation only)."""
    return int(math.floor(x + 0.5)) if x >= 0 else -int(math.floor(-x + 0.5))


def real_neurons(n, rng, exc_fraction):
    """The four classic sets, then Izhikevich 2003's heterogeneous network (r uniform in [0, 1))."""
    out = []
    for i in range(n):
        if i < len(CLASSIC):
            name, a, b, c, d = CLASSIC[i]
        elif rng.random() < exc_fraction:
            r = rng.random()
            name, a, b, c, d = "exc", 0.02, 0.2, -65 + 15 * r * r, 8 - 6 * r * r
        else:
            r = rng.random()
            name, a, b, c, d = "inh", 0.02 + 0.08 * r, 0.25 - 0.05 * r, -65.0, 2.0
        out.append((name, a, b, c, d))
    return out


def stress_program(rng, n, rnd):
    """Random integer programs over the whole range the RTL ports accept, far outside the verifier's 2^62
    bounds (|a|, |b|, |d|, |bias|, |Q| < 2^31, any F, G, S <= 30, H <= 4, V, U in 8 ... 32); the inputs
    are drawn by the caller with |I| < 2^62. Checks exactness of wide intermediates, not biology."""
    def wide(bits):  # a magnitude spread over many scales
        return rng.choice((-1, 1)) * rng.randrange(1 << rng.randint(0, bits))
    V, U = rng.randint(8, 32), rng.randint(8, 32)
    cfg = dict(F=rng.randint(0, 24), G=rng.randint(0, 24), H=rng.randint(0, 4), S=rng.randint(0, 30),
               Q=wide(31), RND=rnd, VB=V, UB=U, CB=rng.randint(1, 16))
    fit = lambda bits: rng.randint(-(1 << (bits - 1)), (1 << (bits - 1)) - 1)
    cfg["PK"] = fit(V)
    neurons = [dict(name="stress", a=wide(31), b=wide(31), c=fit(V), d=wide(31), bias=wide(31),
                    v0=fit(V), u0=fit(U)) for _ in range(n)]
    return cfg, neurons


def check_program(cfg, neurons, strict):
    """The verifier rules of docs/ir.md that concern this model."""
    V, U, F, G, S, Q = cfg["VB"], cfg["UB"], cfg["F"], cfg["G"], cfg["S"], cfg["Q"]
    errors = []
    if not (8 <= V <= 32 and 8 <= U <= 32):
        errors.append("iV, iU must have 8 ... 32 bits")
    if F > 24 or G > 24 or S > 30 or cfg["H"] > 4:
        errors.append("F <= 24, G <= 24, S <= 30, K in {1, 2, 4, 8, 16}")
    fits_v = lambda x: -(1 << (V - 1)) <= x < (1 << (V - 1))
    fits_u = lambda x: -(1 << (U - 1)) <= x < (1 << (U - 1))
    if not fits_v(cfg["PK"]):
        errors.append("PK %d does not fit i%d" % (cfg["PK"], V))
    for i, n in enumerate(neurons):
        if not fits_v(n["c"]):
            errors.append("c[%d] = %d does not fit i%d" % (i, n["c"], V))
        if not fits_v(n["v0"]):
            errors.append("v0[%d] = %d does not fit i%d" % (i, n["v0"], V))
        if not fits_u(n["u0"]):
            errors.append("u0[%d] = %d does not fit i%d" % (i, n["u0"], U))
        for k in ("a", "b", "d", "bias"):
            if abs(n[k]) >= 1 << 31:
                errors.append("|%s[%d]| >= 2^31" % (k, i))
    if (1 << (V - 1)) ** 2 // (1 << F) * abs(Q) >= 1 << 62:   # (2^(V-1))^2 / 2^F x |Q| < 2^62
        errors.append("(2^(V-1))^2 / 2^F x |Q| >= 2^62")
    ma = max(abs(n["a"]) for n in neurons)
    mb = max(abs(n["b"]) for n in neurons)
    if ma * (mb * (1 << (V - 1)) // (1 << G) + (1 << U)) >= 1 << 62:
        errors.append("max|a| x (max|b| x 2^(V-1) / 2^G + 2^U) >= 2^62")
    if errors:
        msg = "izh_reference: program violates docs/ir.md verifier rules:\n  " + "\n  ".join(errors[:10])
        if strict:
            sys.exit(msg + "\n(use --unchecked to write it anyway)")
        print(msg, file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="vector file to write")
    ap.add_argument("--neurons", type=int, default=20)
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--substeps", type=int, default=2, help="K = 2^H sub-steps per timestep (1, 2, 4, 8, 16)")
    ap.add_argument("--frac", type=int, default=15, help="F: state LSB = 2^-F mV")
    ap.add_argument("--abfrac", type=int, default=16, help="G: a, b in 2^-G units")
    ap.add_argument("--shr", type=int, default=18, help="S: 0.04 ~ Q / 2^S")
    ap.add_argument("--vbits", type=int, default=32)
    ap.add_argument("--ubits", type=int, default=32)
    ap.add_argument("--cbits", type=int, default=16)
    ap.add_argument("--rnd", choices=sorted(ROUNDINGS), default="half_up")
    ap.add_argument("--scale", type=float, default=7.0, help="input standard deviation (mV/ms)")
    ap.add_argument("--mean", type=float, default=0.0, help="input mean (mV/ms)")
    ap.add_argument("--bias-max", type=float, default=2.0, help="per-neuron bias drawn uniformly in [0, B) mV/ms")
    ap.add_argument("--heavy", type=float, default=0.01,
                    help="probability that an input is drawn with 20x the scale (drives saturation)")
    ap.add_argument("--exc", type=float, default=0.8, help="excitatory fraction of the heterogeneous neurons")
    ap.add_argument("--unchecked", action="store_true", help="write programs that break the verifier rules")
    ap.add_argument("--stress", action="store_true",
                    help="random integer parameters and inputs over the RTL's whole port range (ignores the "
                         "model options; breaks the verifier's 2^62 bounds, so not for the Int64 engines)")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()

    if args.substeps < 1 or args.substeps & (args.substeps - 1):
        sys.exit("--substeps must be a power of two")
    H = args.substeps.bit_length() - 1
    F, G, S = args.frac, args.abfrac, args.shr
    cfg = dict(F=F, G=G, H=H, S=S, Q=qround(0.04 * (1 << S)), PK=30 * (1 << F), RND=ROUNDINGS[args.rnd],
               VB=args.vbits, UB=args.ubits, CB=args.cbits)

    rng = random.Random(args.seed)
    neurons = []
    if args.stress:
        cfg, neurons = stress_program(rng, args.neurons, ROUNDINGS[args.rnd])
        H = cfg["H"]
    for name, a, b, c, d in ([] if args.stress else real_neurons(args.neurons, rng, args.exc)):
        v0 = -65.0
        neurons.append(dict(
            name=name,
            a=qround(a * (1 << G)), b=qround(b * (1 << G)),
            c=qround(c * (1 << F)), d=qround(d * (1 << F)),
            bias=qround(rng.random() * args.bias_max * (1 << F)),
            v0=qround(v0 * (1 << F)), u0=qround(b * v0 * (1 << F))))
    if not args.stress:
        check_program(cfg, neurons, strict=not args.unchecked)

    state = [(n["v0"], n["u0"], 0) for n in neurons]
    lines = ["%d %d %d %d %d %d %d %d %d %d %d %d" % (
        args.neurons, args.steps, H, cfg["F"], cfg["G"], cfg["Q"], cfg["S"], cfg["PK"], cfg["RND"], cfg["VB"], cfg["UB"], cfg["CB"])]
    for n in neurons:
        lines.append("%d %d %d %d %d %d %d" % (n["a"], n["b"], n["c"], n["d"], n["bias"], n["v0"], n["u0"]))
    spikes = [0] * args.neurons
    stats = {}
    for t in range(args.steps):
        for i, n in enumerate(neurons):
            if args.stress:
                I = rng.choice((-1, 1)) * rng.randrange(1 << rng.choice((8, 16, 24, 32, 40, 62)))
            else:
                scale = args.scale * (20.0 if rng.random() < args.heavy else 1.0)
                I = qround((args.mean + rng.gauss(0.0, 1.0) * scale) * (1 << F))
            v, u, cnt = state[i]
            vtrace, v, u, spk, cnt = izh_step(cfg, n, v, u, cnt, I, stats)
            state[i] = (v, u, cnt)
            spikes[i] += spk
            lines.append("%d %d %d %d %d %d" % (I, vtrace, v, u, spk, cnt))
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    if not args.quiet:
        active = sum(1 for s in spikes if s > 0)
        print("izh_reference: wrote %s: N=%d T=%d K=%d F=%d G=%d Q=%d S=%d PK=%d rnd=%s V=%d U=%d C=%d; "
              "%d spikes, %d/%d neurons spiked; saturations %s"
              % (args.out, args.neurons, args.steps, 1 << H, cfg["F"], cfg["G"], cfg["Q"], cfg["S"], cfg["PK"], args.rnd,
                 cfg["VB"], cfg["UB"], cfg["CB"], sum(spikes), active, args.neurons,
                 " ".join("%s=%d" % (k, stats.get(k, 0)) for k in ("v+", "v-", "u+", "u-", "count+"))))


if __name__ == "__main__":
    main()
