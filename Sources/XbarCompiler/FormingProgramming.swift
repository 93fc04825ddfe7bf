import XbarCore
import XbarDevice
import XbarGraph
import XbarIR
import XbarTarget

/// Electroformed weights (device programming `forming`, docs/compiler.md section 7b): every synapse gets a pair of
/// cells keeping their random post-forming conductances; the graph only supplies the spread the weights should
/// have, so each block gets its own digital scale and its own reads. One slice whatever `mapping.slices` says.
public struct FormingProgramming: ProgrammingStrategy {
    /// The cell physics of the chip instance (`CompileOptions.seed`).
    public let physics: CellPhysics
    public var name: String { "forming" }
    public var slices: Int { 1 }
    public var formsCells: Bool { true }
    /// The realised spread is a running floating-point sum: tile order matters.
    public var writesTilesIndependently: Bool { false }

    public init(target t: Target, seed: UInt64) throws {
        physics = try CellPhysics(spec: t.device, cell: t.cell, seed: seed)
    }

    /// None yet: the format follows from the formed cells (`scales`).
    public func weightFormat(_ work: PopulationWork, context: CompilationContext) throws -> PopulationFormat? { nil }

    /// 1 where a synapse exists (a nonzero graph weight), else 0.
    public func weightCode(_ w: Double, format: PopulationFormat?, context: CompilationContext) -> Int64 { w != 0 ? 1 : 0 }

    /// Forms G+ at column 2j and G- at column 2j+1 for every synapse of the tile (absent synapses are not pulsed:
    /// both cells stay pristine, `unusedCode`), counting unformed cells and each block's realised G+ - G-.
    public func writeCells(of tile: Tile, in work: PopulationWork, into array: inout ArrayDecl, slot k: Int,
                           context c: CompilationContext, tally: inout CellTally) {
        let C = array.cols, perUS = c.perUS
        var codes = CellCodes(repeating: c.map.unusedCode, count: array.rows * C)
        for (r, si) in tile.rows.enumerated() {
            let block = work.stacked[si].block
            work.forEachNonZero(row: si, in: tile.neurons) { n, _ in
                let j = n - tile.neurons.lowerBound
                let gp = physics.form(array: k, row: r, col: j * 2)
                let gn = physics.form(array: k, row: r, col: j * 2 + 1)
                let cp = Int32(Fixed.roundReal(gp.gUS * perUS, .halfEven)), cn = Int32(Fixed.roundReal(gn.gUS * perUS, .halfEven))
                codes[r * C + j * 2] = cp
                codes[r * C + j * 2 + 1] = cn
                tally.formed += 2
                tally.unformed += (gp.formed ? 0 : 1) + (gn.formed ? 0 : 1)
                tally.spread[block].add(Double(cp - cn) / perUS)
            }
        }
        array.codes = codes
        array.codeType = codeType(for: codes, context: c)
    }

    /// Headroom for relaxation and faults on top of the formed state: holds hi + hi/2 + 1, hi = max(largest code,
    /// stuck-on conductance).
    func codeType(for codes: CellCodes, context c: CompilationContext) -> IntType {
        let hi = Swift.max(Int64(codes.range?.upperBound ?? 0), Int64((c.target.device.faults?.stuckOnUS ?? 0) * c.perUS))
        return IntType.unsignedFitting(hi + hi / 2 + 1)
    }

    /// Each block is its own scale group.
    public func scaleGroup(ofBlock b: Int) -> Int { b }

    /// k_b = wanted sigma / realised sd per block; the format takes one weight step as one ADC LSB of difference at
    /// kMax = max k_b; factor_b = k_b / kMax x 2^F.
    public func scaleFactors(_ work: PopulationWork, context c: CompilationContext) throws -> (format: PopulationFormat, factors: [[Double]]) {
        var k = [Double](repeating: 0, count: work.blocks.count)
        for (b, blk) in work.blocks.enumerated() {
            let sd = work.spread[b].standardDeviation
            let sigma = try desiredSigma(blk, context: c)  // also refuses a non-random projection, even a single-cell one
            k[b] = sd > 0 ? sigma / sd : 0
        }
        let kMax = Swift.max(k.max() ?? 0, 1e-300)
        let lsbUS = Double(c.adcLSB) / c.perUS
        var f = try Quantiser.format(population: c.population(work.name), maxAbsWeight: kMax * lsbUS, qMax: 1,
                                     target: c.target, file: c.file)
        // Input LSBs per ADC LSB of difference at kMax (lif: 2^F), from the format's own weight step kMax x lsbUS.
        let step = f.lsbsPerWeightStep(targetFracBits: c.target.neuron.fracBits)
        f.weightScale = kMax
        return (f, k.map { [$0 / kMax * step] })
    }

    /// Wanted standard deviation of a block's weights: sqrt(sum (gain x sd)^2 x connected fraction) over its projections.
    func desiredSigma(_ b: RowBlock, context c: CompilationContext) throws -> Double {
        var v = 0.0
        for pr in b.projections {
            guard case let .random(r) = pr.weights else {
                throw c.error("projections.\(pr.name).weights",
                              "target \(c.target.name) electroforms its weights: only \"random\" projections can be mapped (found another kind; program trained weights with --set device.programming=write_verify)")
            }
            let sd = r.distribution == .normal ? r.b : (r.b - r.a) / 12.0.squareRoot()
            let mean = r.distribution == .normal ? r.a : (r.a + r.b) / 2
            // A formed pair's weight G+ - G- is zero-mean: a projection whose mean matters cannot be formed.
            guard abs(mean) <= 0.05 * sd else {
                throw c.error("projections.\(pr.name).weights",
                              "target \(c.target.name) electroforms its weights, which realises zero-mean random weights, but this projection has mean \(r.gain * mean) (standard deviation \(r.gain * sd)); program it with --set device.programming=write_verify")
            }
            v += (r.gain * sd) * (r.gain * sd) * r.connectedFraction(post: c.population(pr.to).size)
        }
        return v.squareRoot()
    }
}
