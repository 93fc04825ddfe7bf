import Foundation
import XCTest
import XbarCore
import XbarGraph
import XbarTarget
import XbarIR
import XbarCompiler
import XbarEvents
import XbarEmulator

/// Repository root: this file is <root>/Tests/XbarTests/IdealPreactivationTests.swift.
private let ipRepoRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

private func ipPath(_ relative: String) -> String { ipRepoRoot.appendingPathComponent(relative).path }

/// An ideal-like target with tiny arrays: 16 rows x 8 columns, 2 slices of 16 levels (4 cells per weight, so two
/// neurons per array), g_min 0, ADC LSB = one level step, enough ADC bits, different fraction bits from ideal.
private let ipTiny16x8 = """
    [target]
    name = "ideal-16x8"
    technology_nm = 40
    [macro]
    count = 64
    arrays = 16
    rows = 16
    cols = 8
    [cell]
    g_min_us = 0.0
    g_max_us = 15.0
    levels = 16
    g_unit_ns = 1000.0
    unused_us = 0.0
    [read]
    v_read_mv = 200.0
    t_read_ns = 10.0
    [adc]
    bits = 10
    lsb_us = 1.0
    rounding = "half_even"
    [neuron]
    mem_bits = 32
    frac_bits = 5
    decay_bits = 16
    decay_rounding = "half_even"
    overflow = "sat"
    count_bits = 16
    refractory_bits = 8
    [readout]
    weight_bits = 8
    acc_bits = 32
    [mapping]
    slices = 2
    weight_rounding = "half_even"
    scale_rounding = "half_even"
    [clock]
    mhz = 100.0
    """

/// Another ideal-like tiny target: 3 slices of 4 levels (qMax = 4^3 - 1 = 63), 16 rows x 12 columns, a level step
/// of 2 code units (g_unit 500 nS) with the ADC LSB equal to it, and no fraction bits.
private let ipTiny3Slice = """
    [target]
    name = "ideal-3slice"
    technology_nm = 40
    [macro]
    count = 1024
    arrays = 1
    rows = 16
    cols = 12
    [cell]
    g_min_us = 0.0
    g_max_us = 3.0
    levels = 4
    g_unit_ns = 500.0
    unused_us = 0.0
    [read]
    v_read_mv = 200.0
    t_read_ns = 10.0
    [adc]
    bits = 8
    lsb_us = 1.0
    rounding = "half_even"
    [neuron]
    mem_bits = 32
    frac_bits = 0
    decay_bits = 12
    decay_rounding = "half_up"
    overflow = "sat"
    count_bits = 16
    refractory_bits = 8
    [readout]
    weight_bits = 8
    acc_bits = 32
    [mapping]
    slices = 3
    weight_rounding = "half_even"
    scale_rounding = "half_even"
    [clock]
    mhz = 100.0
    """

/// This file's draws: the shared seeded source on its own Philox purposes (910, 911).
private typealias IPRandom = RTRandom

/// The independent reference: quantised integer weights per incoming projection and the stacked input product.
private struct IPReference {
    struct Incoming {
        var source: String
        var delay: Int
        var pre: Int
        /// q[i * post + j].
        var q: [Int64]
    }

    let population: String
    let post: Int
    let fracBits: Int
    let incoming: [Incoming]

    /// Quantises like docs/compiler.md: s = max|w| / qMax over all incoming weights, q = round_half_even(w / s)
    /// clamped to +-qMax, with qMax = levels^slices - 1.
    init(graph g: Graph, population: String, target t: Target) {
        self.population = population
        post = g.population(named: population)!.size
        fracBits = t.neuron.fracBits
        var qMax: Int64 = 1
        for _ in 0..<t.mapping.slices { qMax *= Int64(t.cell.levels) }
        qMax -= 1
        var raw: [(Projection, Int, [Double])] = []
        for pr in g.projections where pr.to == population {
            let pre = g.population(named: pr.from)!.size
            raw.append((pr, pre, Materialize.weights(pr, pre: pre, post: post)))
        }
        let maxAbs = raw.flatMap { $0.2 }.reduce(0.0) { Swift.max($0, abs($1)) }
        let s = maxAbs > 0 ? maxAbs / Double(qMax) : 1.0
        incoming = raw.map { pr, pre, w in
            Incoming(source: pr.from, delay: pr.delay, pre: pre,
                     q: w.map { Swift.max(-qMax, Swift.min(qMax, Int64(($0 / s).rounded(.toNearestOrEven)))) })
        }
    }

    /// pre[j] = 2^F * sum_i q[i][j] * x[i] for the stacked input x of step t.
    /// `spikes(source, step)` gives the active indices of a population at a step (empty for t < 0).
    func preActivation(step t: Int, spikes: (String, Int) -> [Int32]) -> [Int64] {
        var acc = [Int64](repeating: 0, count: post)
        for inc in incoming {
            for i in spikes(inc.source, t - inc.delay) {
                let base = Int(i) * post
                for j in 0..<post { acc[j] += inc.q[base + j] }
            }
        }
        return acc.map { $0 << Int64(fracBits) }
    }
}

final class IdealPreactivationTests: XCTestCase {
    private func lif(_ r: inout IPRandom) -> LIFParameters {
        LIFParameters(decay: [0.0, 0.5, 0.9, 1.0, r.uniform()][r.int(0, 4)], threshold: 0.5 + 3 * r.uniform(),
                      reset: r.chance(0.5) ? .zero : .subtract, refractory: r.int(0, 3),
                      bias: r.chance(0.5) ? 0 : 0.3 * (2 * r.uniform() - 1), compare: r.chance(0.5) ? .gt : .ge)
    }

    /// Weights mixing the interesting cases: i.i.d. normal, exact rounding ties (w / s = k + 1/2), sparse with
    /// duplicates, random with masks.
    private func weights(_ r: inout IPRandom, pre: Int, post: Int, seedSalt: Int) -> WeightSpec {
        switch r.int(0, 3) {
        case 0:
            return .dense((0..<(pre * post)).map { _ in r.chance(0.25) ? 0 : r.normal() })
        case 1:
            // Multiples of 1/128 up to 510/128: with qMax = 255 and max|w| = 510/128, w / s = k / 2 exactly, so half
            // of the codes sit on a tie. (Other qMax values give other exact fractions.)
            var v = (0..<(pre * post)).map { _ in Double(r.int(-510, 510)) / 128 }
            v[r.int(0, v.count - 1)] = r.chance(0.5) ? 510.0 / 128 : -510.0 / 128
            return .dense(v)
        case 2:
            var es: [SparseEntry] = []
            for _ in 0..<r.int(1, pre * post) {
                es.append(SparseEntry(pre: r.int(0, pre - 1), post: r.int(0, post - 1), weight: 2 * r.normal()))
            }
            return .sparse(es)
        default:
            return .random(RandomWeights(distribution: r.chance(0.5) ? .normal : .uniform, a: r.chance(0.5) ? 0 : -1,
                                         b: 1, gain: 0.5 + r.uniform(), density: r.chance(0.5) ? 1 : 0.4,
                                         seed: UInt64(seedSalt), noSelf: r.chance(0.5)))
        }
    }

    /// Random graph: a single lif population (input + recurrent) or a two-layer chain (input -> L1 -> L2 with
    /// recurrence in both, optionally input -> L2 and a delayed L2 -> L1 feedback).
    private func graph(_ index: Int, twoLayer: Bool, maxSize: Int, maxInputs: Int) -> Graph {
        var r = RTRandom(seed: 77, id: UInt32(index) + (twoLayer ? 10_000 : 0), purposes: (910, 911))
        let nIn = r.int(1, maxInputs)
        var pops = [Population(name: "in", kind: .input, size: nIn),
                    Population(name: "l1", kind: .lif, size: r.int(1, maxSize), lif: lif(&r))]
        if twoLayer { pops.append(Population(name: "l2", kind: .lif, size: r.int(1, maxSize), lif: lif(&r))) }
        func proj(_ a: Int, _ b: Int, _ delay: Int, _ r: inout IPRandom) -> Projection {
            Projection(name: "\(pops[a].name)-\(pops[b].name)", from: pops[a].name, to: pops[b].name, delay: delay,
                       weights: weights(&r, pre: pops[a].size, post: pops[b].size, seedSalt: index * 7 + a * 3 + b))
        }
        var projs = [proj(0, 1, 0, &r), proj(1, 1, 1, &r)]
        if twoLayer {
            projs.append(proj(1, 2, 0, &r))
            projs.append(proj(2, 2, 1, &r))
            if r.chance(0.5) { projs.append(proj(0, 2, 0, &r)) }
            if r.chance(0.5) { projs.append(proj(2, 1, 1, &r)) }
        }
        return Graph(name: "pre\(index)", timesteps: r.int(8, 24), populations: pops, projections: projs)
    }

    private func raster(_ index: Int, channels: Int, timesteps: Int) -> SpikeRaster {
        var r = RTRandom(seed: 78, id: UInt32(index), purposes: (910, 911))
        let density = 0.05 + 0.5 * r.uniform()
        let active = (0..<timesteps).map { _ in (0..<channels).filter { _ in r.chance(density) }.map { Int32($0) } }
        return SpikeRaster(channels: channels, timesteps: timesteps, label: nil, active: active)
    }

    /// The IR's LIF rule (docs/ir.md), used to check that the engine's spikes follow from its pre-activations.
    private func lifSpikes(_ n: NeuronDecl, pre: [[Int64]]) -> [[Int32]] {
        var mem = [Int64](repeating: 0, count: n.size), refr = [Int](repeating: 0, count: n.size)
        var out: [[Int32]] = []
        for input in pre {
            var spk: [Int32] = []
            for i in 0..<n.size {
                if refr[i] > 0 { refr[i] -= 1; continue }
                let d = Fixed.shiftRight(mem[i] * n.decayMul, n.decayShift, n.decayRounding)
                let v = Fixed.fit(d + input[i] + n.bias, n.memType, n.memOverflow)
                if n.compare == .gt ? v > n.threshold : v >= n.threshold {
                    mem[i] = n.reset == .zero ? 0 : Fixed.fit(v - n.threshold, n.memType, n.memOverflow)
                    refr[i] = n.refractory
                    spk.append(Int32(i))
                } else {
                    mem[i] = v
                }
            }
            out.append(spk)
        }
        return out
    }

    private struct Tally {
        var graphs = 0
        var steps = 0
        var checkedValues = 0
        var nonzeroValues = 0
        var recurrentSpikes = 0
        var rowSplitLayers = 0
        var colSplitLayers = 0
    }

    /// Compiles `g` on `t`, runs the fast engine with tracing and compares every pre-activation with the reference.
    private func check(_ g: Graph, _ input: SpikeRaster, on t: Target, tally: inout Tally, line: UInt = #line) throws {
        let c = try Compiler.compile(g, target: t, options: CompileOptions(replicateMacros: true), file: g.name)
        let chip = Chip(program: c.program, seed: 1)
        let binding = try InputBinding(program: c.program, channels: input.channels, file: g.name)
        let res = FastEngine(chip: chip).run(input, binding: binding, trace: true)
        // Per population and step, the engine's spikes (a Spike list is in step then neuron order).
        var spikesAt: [String: [[Int32]]] = [:]
        for pop in g.populations where pop.kind == .lif {
            var bySteps = [[Int32]](repeating: [], count: g.timesteps)
            for s in res.spikes[pop.name] ?? [] { bySteps[Int(s.step)].append(s.neuron) }
            spikesAt[pop.name] = bySteps
        }
        func spikes(_ src: String, _ step: Int) -> [Int32] {
            guard step >= 0 else { return [] }
            if src == "in" { return input.active[step] }
            return spikesAt[src]![step]
        }
        tally.graphs += 1
        for pop in g.populations where pop.kind == .lif {
            let ref = IPReference(graph: g, population: pop.name, target: t)
            guard let trace = res.traces[pop.name] else { XCTFail("\(g.name): no trace of \(pop.name)", line: line); return }
            XCTAssertEqual(trace.preActivation.count, g.timesteps, line: line)
            var mismatches = 0
            var first = ""
            for step in 0..<Swift.min(g.timesteps, trace.preActivation.count) {
                let want = ref.preActivation(step: step, spikes: spikes)
                let got = trace.preActivation[step]
                tally.checkedValues += want.count
                tally.nonzeroValues += want.filter { $0 != 0 }.count
                if got != want {
                    mismatches += 1
                    if first.isEmpty, let j = (0..<want.count).first(where: { j in j >= got.count || got[j] != want[j] }) {
                        first = "step \(step) neuron \(j): engine \(j < got.count ? String(got[j]) : "-") reference \(want[j])"
                    }
                }
            }
            tally.steps += g.timesteps
            XCTAssertEqual(mismatches, 0, "\(g.name) on \(t.name), @\(pop.name): \(first)", line: line)
            // The engine's spikes are the IR LIF rule applied to those pre-activations.
            let decl = c.program.neuron(named: pop.name)!
            XCTAssertEqual(lifSpikes(decl, pre: trace.preActivation), spikesAt[pop.name]!, "\(g.name) on \(t.name) @\(pop.name) spikes",
                           line: line)
            if g.projections.contains(where: { $0.to == pop.name && $0.delay == 1 }) {
                tally.recurrentSpikes += spikesAt[pop.name]!.dropLast().reduce(0) { $0 + $1.count }
            }
            let tiles = c.stats.tiles.filter { $0.population == pop.name }
            if Set(tiles.map { $0.neurons }).count > 1 { tally.colSplitLayers += 1 }
            if tiles.filter({ $0.neurons == tiles[0].neurons }).count > 1 { tally.rowSplitLayers += 1 }
        }
    }

    func testTargetsAreIdeal() throws {
        // The properties the exactness argument relies on: g_min = 0, ADC LSB = one level step, no offset.
        for t in [try TargetLoader.load(ipPath("targets/ideal.toml")), try TargetLoader.parse(ipTiny16x8, file: "t16x8.toml"),
                  try TargetLoader.parse(ipTiny3Slice, file: "t3.toml")] {
            XCTAssertEqual(t.cell.gMinUS, 0, t.name)
            XCTAssertEqual(t.cell.unusedUS, 0, t.name)
            XCTAssertEqual(t.adc.lsbUS, (t.cell.gMaxUS - t.cell.gMinUS) / Double(t.cell.levels - 1), t.name)
            XCTAssertEqual(t.adc.offsetUS, 0, t.name)
            let map = ConductanceMap(target: t)
            XCTAssertEqual(map.levelCodes.first, 0, t.name)
            XCTAssertEqual(map.unusedCode, 0, t.name)
        }
        let ideal = try TargetLoader.load(ipPath("targets/ideal.toml"))
        XCTAssertEqual(ConductanceMap(target: ideal).levelCodes, (0...15).map { Int32($0) })
        XCTAssertEqual(ConductanceMap(target: ideal).cells(-37), [0, 5, 0, 2])  // 37 = 5 + 2 * 16, negative column
        XCTAssertEqual(ConductanceMap(target: try TargetLoader.parse(ipTiny3Slice, file: "t3.toml")).levelCodes, [0, 2, 4, 6])
    }

    func testSingleLayerOnIdealTargets() throws {
        let targets = [try TargetLoader.load(ipPath("targets/ideal.toml")), try TargetLoader.parse(ipTiny16x8, file: "t16x8.toml"),
                       try TargetLoader.parse(ipTiny3Slice, file: "t3.toml")]
        var tally = Tally()
        for k in 0..<30 {
            let g = graph(k, twoLayer: false, maxSize: 60, maxInputs: 60)
            let x = raster(k, channels: g.populations[0].size, timesteps: g.timesteps)
            for t in targets { try check(g, x, on: t, tally: &tally) }
        }
        XCTAssertEqual(tally.graphs, 90)
        XCTAssertGreaterThan(tally.nonzeroValues, tally.checkedValues / 2)
        XCTAssertGreaterThan(tally.recurrentSpikes, 1000, "recurrent rows must actually be driven")
        XCTAssertGreaterThanOrEqual(tally.rowSplitLayers, 50, "layers split across row tiles")
        XCTAssertGreaterThanOrEqual(tally.colSplitLayers, 50, "layers split across column tiles")
    }

    func testTwoLayerChainsOnIdealTargets() throws {
        let targets = [try TargetLoader.load(ipPath("targets/ideal.toml")), try TargetLoader.parse(ipTiny16x8, file: "t16x8.toml"),
                       try TargetLoader.parse(ipTiny3Slice, file: "t3.toml")]
        var tally = Tally()
        for k in 0..<25 {
            let g = graph(k, twoLayer: true, maxSize: 40, maxInputs: 40)
            XCTAssertEqual(try Schedule.order(g, file: g.name), ["l1", "l2"])
            let x = raster(100 + k, channels: g.populations[0].size, timesteps: g.timesteps)
            for t in targets { try check(g, x, on: t, tally: &tally) }
        }
        XCTAssertEqual(tally.graphs, 75)
        XCTAssertGreaterThan(tally.nonzeroValues, tally.checkedValues / 2)
        XCTAssertGreaterThan(tally.recurrentSpikes, 1000)
        XCTAssertGreaterThanOrEqual(tally.rowSplitLayers, 80)
        XCTAssertGreaterThanOrEqual(tally.colSplitLayers, 80)
    }

    /// On targets/ideal.toml itself, a layer bigger than one 512x512 array both ways: 420 inputs + 150 recurrent rows
    /// (2 row tiles) and 150 neurons x 4 cells (2 column tiles).
    func testLayerSplitBothWaysOnIdealToml() throws {
        let ideal = try TargetLoader.load(ipPath("targets/ideal.toml"))
        var r = RTRandom(seed: 79, id: 1, purposes: (910, 911))
        let g = Graph(name: "big", timesteps: 12,
                      populations: [Population(name: "in", kind: .input, size: 420),
                                    Population(name: "l1", kind: .lif, size: 150,
                                               lif: LIFParameters(decay: 0.75, threshold: 4, reset: .subtract, refractory: 1))],
                      projections: [Projection(name: "a", from: "in", to: "l1", delay: 0, weights: weights(&r, pre: 420, post: 150, seedSalt: 5)),
                                    Projection(name: "b", from: "l1", to: "l1", delay: 1,
                                               weights: .random(RandomWeights(distribution: .normal, a: 0, b: 1, gain: 1.5,
                                                                              density: 1, seed: 9, noSelf: true)))])
        var tally = Tally()
        try check(g, raster(999, channels: 420, timesteps: 12), on: ideal, tally: &tally)
        let c = try Compiler.compile(g, target: ideal)
        XCTAssertEqual(c.stats.tiles.map { $0.rowsUsed }, [512, 58, 512, 58])
        XCTAssertEqual(c.stats.tiles.map { $0.colsUsed }, [512, 512, 88, 88])
        XCTAssertEqual(tally.rowSplitLayers, 1)
        XCTAssertEqual(tally.colSplitLayers, 1)
        XCTAssertGreaterThan(tally.recurrentSpikes, 0)
    }

    /// The bundled example on the ideal target with the bundled digits input.
    func testLSMPaperExampleOnIdeal() throws {
        let g = try GraphJSON.load(ipPath("examples/lsm-paper/lsm-paper.json"))
        let data = try EventFile.read(ipPath("examples/digits/digits-test.xev"))
        XCTAssertEqual(data.channels, 256)
        XCTAssertEqual(data.timesteps, g.timesteps)
        let ideal = try TargetLoader.load(ipPath("targets/ideal.toml"))
        var tally = Tally()
        for s in data.samples.prefix(2) { try check(g, s, on: ideal, tally: &tally) }
        XCTAssertEqual(tally.steps, 100)
        XCTAssertEqual(tally.colSplitLayers, 2)
        XCTAssertGreaterThan(tally.recurrentSpikes, 0)
    }
}
