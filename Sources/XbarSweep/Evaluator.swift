import Foundation
import TOMLKit
import XbarCompiler
import XbarCore
import XbarCost
import XbarEmulator
import XbarEvents
import XbarGraph
import XbarIR
import XbarLearn
import XbarTarget

enum XbarGraphAccess {
    static func readoutTrained(_ path: String) throws -> Bool {
        let g = try GraphJSON.load(path)
        return g.readout?.weights != nil
    }
}

/// A point made concrete: its validated target and compile/workload settings, and the cache keys of what it shares
/// with other points.
public struct PreparedPoint: Sendable {
    public var point: SweepPoint
    public var target: Target
    public var seed: UInt64
    public var replicateMacros: Bool
    public var params: [String: SweepValue]
    /// Equal for points that compile to the same program (they differ only in energy, area, clock or timing other than
    /// timing.max_rows_driven).
    var compileKey: String
    /// Equal for points whose run is the same (they differ only in energy, area or clock): counters and accuracy are
    /// reused and only the cost model is evaluated again.
    var outcomeKey: String
}

/// The result of one point: metric columns in a fixed order, or the error that made the point fail.
public struct PointResult: Sendable {
    public var metrics: [(String, JSONValue)]
    public var error: String?
    public var seconds: Double
}

/// What a run of the workload leaves behind: enough to price it with any energy/area/clock table.
struct RunFacts: @unchecked Sendable {
    var counters: Counters
    var samples: Int
    var program: Program
    var programmingPulses: Int64
    var accuracy: Double?
}

/// Evaluates points of one spec. Thread-safe: points run concurrently; compiled programs and run outcomes are cached
/// (bounded) so that points differing only in energy/area/clock cost one cost-model evaluation.
public final class SweepEvaluator: @unchecked Sendable {
    public let spec: SweepSpec
    let env: SweepEnvironment
    /// Threads inside one point (samples in parallel); the sweep runs points in parallel and sets this to 1.
    public var innerThreads = 1
    public var log: @Sendable (String) -> Void = { _ in }

    let graph: Graph?
    let events: EventDataset?
    let lock = NSLock()
    var compiled: [String: Program] = [:]
    var compiledOrder: [String] = []
    var outcomes: [String: RunFacts] = [:]
    var outcomeOrder: [String] = []
    var dataSets: [String: LabelledSet] = [:]
    /// Per run group: a loader-made target of one member, and whether patching it was checked against the loader.
    var groupTargets: [String: (Target, Bool)] = [:]
    public private(set) var cacheHits = 0

    let reuseTables = SweepPlan.repricingTables

    public init(spec: SweepSpec, environment: SweepEnvironment) throws {
        self.spec = spec
        env = environment
        switch spec.workload.kind {
        case .graph:
            let g = try GraphJSON.load(spec.workload.graphPath!)
            graph = g
            var input = spec.workload.inputPath
            if input == nil, let ex = g.exampleInput {
                input = URL(fileURLWithPath: spec.workload.graphPath!).deletingLastPathComponent().appendingPathComponent(ex).path
            }
            guard let i = input else {
                throw spec.fail(["workload"], "workload.input: missing, and the graph has no example_input")
            }
            events = try EventFile.read(i)
        case .experiment:
            graph = spec.workload.graphPath.map { try? GraphJSON.load($0) } ?? nil
            if spec.workload.graphPath != nil && graph == nil { _ = try GraphJSON.load(spec.workload.graphPath!) }
            events = nil
        }
    }

    /// Resolves a point's target (validated by the target loader) and settings; errors name the spec lines of the
    /// point's axes. Points of one run group (differing only in energy, area or clock axes) share one loader pass:
    /// the group's first target is patched with the point's energy/area/clock values, and the second point of each
    /// group is checked to give exactly the target the loader gives.
    public func prepare(_ p: SweepPoint) throws -> PreparedPoint {
        var seed = spec.compileSeed ?? spec.seed
        var replicate = spec.replicateMacros
        var params = spec.workload.params
        var compileParts: [(String, JSONValue)] = []
        var outcomeParts: [(String, JSONValue)] = []
        var repricing: [(Axis, SweepValue)] = []
        for (a, v) in zip(spec.axes, p.values) {
            switch a.scope {
            case .target: break
            case .compile:
                if a.path == ["seed"], case let .int(s) = v { seed = UInt64(s) }
                if a.path == ["replicate_macros"], case let .bool(b) = v { replicate = b }
            case .workload:
                params[a.path[0]] = v
            }
            let top = a.scope == .target ? a.path[0] : ""
            if reuseTables.contains(top) {
                repricing.append((a, v))
            } else {
                outcomeParts.append((a.name, v.json))
                if top != "timing" || a.path == ["timing", "max_rows_driven"] { compileParts.append((a.name, v.json)) }
            }
        }
        func key(_ parts: [(String, JSONValue)]) -> String {
            SHA256.hex(spec.fingerprint + "\n" + JSONValue.object(parts.sorted { $0.0 < $1.0 }).serialized(indent: nil))
        }
        let outcomeKey = key(outcomeParts)
        lock.lock()
        let groupBase = groupTargets[outcomeKey]
        lock.unlock()
        var target: Target
        if let (base, checked) = groupBase, let patched = SweepEvaluator.patch(base, repricing), checked {
            target = patched
        } else {
            target = try loaderTarget(p)
            lock.lock()
            if let (base, _) = groupTargets[outcomeKey], let patched = SweepEvaluator.patch(base, repricing) {
                if patched != target {
                    lock.unlock()
                    throw XbarError(file: spec.path, field: "point \(p.index)", "internal: patching energy/area/clock gave another target than the loader")
                }
                groupTargets[outcomeKey] = (base, true)
            } else if groupTargets[outcomeKey] == nil {
                groupTargets[outcomeKey] = (target, false)
            }
            lock.unlock()
        }
        return PreparedPoint(point: p, target: target, seed: seed, replicateMacros: replicate, params: params,
                             compileKey: key(compileParts), outcomeKey: outcomeKey)
    }

    /// The point's target through the TOML table and the target loader.
    func loaderTarget(_ p: SweepPoint) throws -> Target {
        let table = try TOMLTable(string: spec.baseTOML)
        for (a, v) in zip(spec.axes, p.values) where a.scope == .target {
            do { try TargetOverride.set(table, a.path, v.toml) } catch let f as TargetOverride.Failure {
                throw XbarError(file: spec.path, field: "line \(a.line)", "axis \(a.name): \(f.message)")
            }
        }
        do {
            return try TargetLoader.parse(table.convert(to: .toml), file: "<point>")
        } catch let e as XbarError {
            // Name the axis that set the key, else every target axis of the point.
            let lines = zip(spec.axes, p.values).filter { $0.0.scope == .target }
            let hit = lines.first { e.field == $0.0.name } ?? lines.first { e.field.hasPrefix($0.0.path[0] + ".") }
            let place = hit.map { "line \($0.0.line)" } ?? lines.map { "line \($0.0.line)" }.joined(separator: ", ")
            let values = lines.map { "\($0.0.name) = \($0.1)" }.joined(separator: ", ")
            throw XbarError(file: spec.path, field: place, "point \(p.index) (\(values)): \(e.field): \(e.message)")
        }
    }

    /// `t` with energy/area/clock values set directly (each value was range-checked by the loader when the spec was
    /// read); nil for a key this does not know (the loader path is used then).
    static func patch(_ t: Target, _ values: [(Axis, SweepValue)]) -> Target? {
        var t = t
        for (a, v) in values {
            guard a.path.count == 2, let x = v.number else { return nil }
            switch (a.path[0], a.path[1]) {
            case ("clock", "mhz"): t.clockMHz = x
            case ("energy", "wl_activation_pj"): t.energy.wlActivationPJ = x
            case ("energy", "input_pulse_pj"): t.energy.inputPulsePJ = x
            case ("energy", "adc_fixed_fj"): t.energy.adcFixedFJ = x
            case ("energy", "adc_per_step_fj"): t.energy.adcPerStepFJ = x
            case ("energy", "column_read_pj"): t.energy.columnReadPJ = x
            case ("energy", "shift_add_pj"): t.energy.shiftAddPJ = x
            case ("energy", "neuron_update_pj"): t.energy.neuronUpdatePJ = x
            case ("energy", "spike_route_pj"): t.energy.spikeRoutePJ = x
            case ("energy", "sram_access_pj"): t.energy.sramAccessPJ = x
            case ("energy", "cell_write_pj"): t.energy.cellWritePJ = x
            case ("energy", "verify_pj"): t.energy.verifyPJ = x
            case ("energy", "leakage_mw"): t.energy.leakageMW = x
            case ("area", "array_mm2"): t.area.arrayMM2 = x
            case ("area", "adc_mm2"): t.area.adcMM2 = x
            case ("area", "neuron_unit_mm2"): t.area.neuronUnitMM2 = x
            case ("area", "router_mm2"): t.area.routerMM2 = x
            case ("area", "digital_mm2"): t.area.digitalMM2 = x
            default: return nil
            }
        }
        return t
    }

    /// Runs a prepared point. A failure of the point itself (the network does not fit, ...) is a result, not an error.
    public func evaluate(_ pp: PreparedPoint) -> PointResult {
        let start = Date()
        do {
            let facts = try outcome(pp)
            let cost = CostModel.report(counters: facts.counters, program: facts.program, target: pp.target, samples: facts.samples,
                                        programmingPulses: facts.programmingPulses)
            var m: [(String, JSONValue)] = []
            let n = Double(max(1, facts.samples))
            for metric in spec.metrics {
                switch metric {
                case .accuracy: m.append(("accuracy", facts.accuracy.map { .double($0) } ?? .null))
                case .energyPerSample: m.append(("energy_per_sample_pj", .double(cost.perSamplePJ)))
                case .latency:
                    m.append(("latency_s", .double(cost.latencySecondsPerSample)))
                    m.append(("latency_cycles", .double(cost.latencyCyclesPerSample)))
                case .topsPerW:
                    m.append(("tops_per_w", .double(cost.eventTOPSPerW)))
                    m.append(("dense_tops_per_w", .double(cost.denseTOPSPerW)))
                case .area: m.append(("area_mm2", .double(cost.totalAreaMM2)))
                case .ops:
                    m.append(("ops_per_sample", .double(cost.eventOps / n)))
                    m.append(("dense_ops_per_sample", .double(cost.denseOps / n)))
                }
            }
            return PointResult(metrics: m, error: nil, seconds: Date().timeIntervalSince(start))
        } catch let e as XbarError {
            return PointResult(metrics: [], error: e.description, seconds: Date().timeIntervalSince(start))
        } catch {
            return PointResult(metrics: [], error: "\(error)", seconds: Date().timeIntervalSince(start))
        }
    }

    func cached<T>(_ dict: inout [String: T], _ order: inout [String], _ key: String, limit: Int, _ value: T) {
        if dict[key] == nil {
            order.append(key)
            if order.count > limit { dict[order.removeFirst()] = nil }
        }
        dict[key] = value
    }

    func outcome(_ pp: PreparedPoint) throws -> RunFacts {
        lock.lock()
        if let f = outcomes[pp.outcomeKey] {
            cacheHits += 1
            lock.unlock()
            return f
        }
        lock.unlock()
        let f: RunFacts
        switch spec.workload.kind {
        case .graph: f = try runGraph(pp)
        case .experiment: f = try runExperiment(pp)
        }
        lock.lock()
        cached(&outcomes, &outcomeOrder, pp.outcomeKey, limit: 4096, f)
        lock.unlock()
        return f
    }

    func compile(_ g: Graph, _ pp: PreparedPoint) throws -> Program {
        lock.lock()
        if let p = compiled[pp.compileKey] {
            lock.unlock()
            return p
        }
        lock.unlock()
        let c = try Compiler.compile(g, target: pp.target, options: CompileOptions(replicateMacros: pp.replicateMacros, seed: pp.seed),
                                     file: spec.workload.graphPath ?? "<graph>")
        lock.lock()
        cached(&compiled, &compiledOrder, pp.compileKey, limit: 16, c.program)
        lock.unlock()
        return c.program
    }

    func runGraph(_ pp: PreparedPoint) throws -> RunFacts {
        var data = events!
        if case let .int(n)? = pp.params["samples"] { data.samples = Array(data.samples.prefix(n)) }
        let program = try compile(graph!, pp)
        let chip = try Chip(program: program, target: pp.target, seed: pp.seed)
        var engine = EngineKind.fast
        if case let .string(e)? = pp.params["engine"], let k = EngineKind(rawValue: e) { engine = k }
        let out = try Runner(chip: chip, engine: engine, options: RunOptions(seed: pp.seed, threads: innerThreads))
            .run(data, file: spec.workload.inputPath ?? "<input>")
        var accuracy: Double? = nil
        if spec.metrics.contains(.accuracy), let r = program.readouts.first {
            var right = 0, labelled = 0
            for (s, res) in zip(data.samples, out.samples) {
                guard let l = s.label, let pr = res.prediction(r.name) else { continue }
                labelled += 1
                if pr == l { right += 1 }
            }
            if labelled > 0 { accuracy = Double(right) / Double(labelled) }
        }
        return RunFacts(counters: out.totals, samples: out.samples.count, program: program, programmingPulses: chip.programmingPulses,
                        accuracy: accuracy)
    }

    // MARK: the LSM experiment

    func param(_ pp: PreparedPoint, _ k: String) -> SweepValue? { pp.params[k] }
    func intParam(_ pp: PreparedPoint, _ k: String, _ d: Int) -> Int {
        if case let .int(i)? = pp.params[k] { return i }
        return d
    }
    func doubleParam(_ pp: PreparedPoint, _ k: String, _ d: Double) -> Double { pp.params[k]?.number ?? d }

    func experimentGraph(_ pp: PreparedPoint) -> Graph {
        let ts = intParam(pp, "timesteps", 50)
        if var g = graph {
            g.timesteps = ts
            return g
        }
        if spec.workload.lsm == "nalsm" {
            var o = LSMBuilder.NALSMOptions()
            o.timesteps = ts
            o.inputGain = doubleParam(pp, "input_gain", o.inputGain)
            o.recurrentGain = doubleParam(pp, "recurrent_gain", o.recurrentGain)
            o.inputDensity = doubleParam(pp, "input_density", o.inputDensity)
            return LSMBuilder.nalsm(o)
        }
        var o = LSMBuilder.PaperOptions()
        o.timesteps = ts
        o.inputGain = doubleParam(pp, "input_gain", env.paper.inputGain)
        o.recurrentGain = doubleParam(pp, "recurrent_gain", env.paper.recurrentGain)
        o.inputDensity = doubleParam(pp, "input_density", env.paper.inputDensity)
        o.recurrentDensity = doubleParam(pp, "recurrent_density", env.paper.recurrentDensity)
        return LSMBuilder.paper(o)
    }

    func binOptions(inputs: Int, timesteps: Int) throws -> BinOptions {
        var b = BinOptions()
        b.timesteps = timesteps
        switch inputs {
        case 256: b.crop = Crop.paperCentre16; b.polarity = .on
        case 512: b.crop = Crop.paperCentre16; b.polarity = .both
        case 1156: b.crop = nil; b.polarity = .on
        case 2312: b.crop = nil; b.polarity = .both
        default:
            throw XbarError(file: spec.path, field: "workload", "\(inputs) input channels: event data gives 256, 512, 1156 or 2312")
        }
        return b
    }

    /// The labelled data of a point (cached per data settings).
    func dataSet(_ pp: PreparedPoint, inputs: Int) throws -> LabelledSet {
        let ts = intParam(pp, "timesteps", 50)
        let trainMax = pp.params["train_max"].flatMap { if case let .int(i) = $0 { return i } else { return nil } }
        let testMax = pp.params["test_max"].flatMap { if case let .int(i) = $0 { return i } else { return nil } }
        let saccadeSeed = UInt64(intParam(pp, "saccade_seed", 1)), splitSeed = UInt64(intParam(pp, "split_seed", 1))
        let key = "\(inputs) \(ts) \(trainMax ?? -1) \(testMax ?? -1) \(saccadeSeed) \(splitSeed)"
        lock.lock()
        if let d = dataSets[key] {
            lock.unlock()
            return d
        }
        lock.unlock()
        let data = spec.workload.data!
        var set: LabelledSet
        switch data {
        case "digits":
            var o = SaccadeOptions()
            o.seed = saccadeSeed
            let rows = try Digits.loadCSV(spec.workload.digitsCSV!)
            let recs = DigitsEvents.recordings(rows, options: o, splitSeed: splitSeed, threads: innerThreads)
            set = LabelledSet.binning(recs, try binOptions(inputs: inputs, timesteps: ts))
        case "digits-rate":
            guard inputs == 256 else {
                throw XbarError(file: spec.path, field: "workload.data", "digits-rate gives 256 channels; the LSM has \(inputs) inputs")
            }
            let rows = try Digits.loadCSV(spec.workload.digitsCSV!)
            let nTest = min(200, rows.count / 2)
            let tr = Digits.encode(rows, indices: 0..<(rows.count - nTest), seed: 1, timesteps: ts)
            let te = Digits.encode(rows, indices: (rows.count - nTest)..<rows.count, seed: 1, timesteps: ts)
            set = LabelledSet(channels: 256, timesteps: ts, train: tr.samples, test: te.samples,
                              trainNames: (0..<tr.samples.count).map { "row \($0)" },
                              testNames: (0..<te.samples.count).map { "row \(rows.count - nTest + $0)" })
        default:
            set = try NMNISTFolder.load(data, bin: try binOptions(inputs: inputs, timesteps: ts), onBadFile: .skip, threads: innerThreads)
        }
        set = set.thinned(trainMax: trainMax, testMax: testMax)
        set.timesteps = ts
        lock.lock()
        dataSets[key] = set
        lock.unlock()
        return set
    }

    func runExperiment(_ pp: PreparedPoint) throws -> RunFacts {
        let g = experimentGraph(pp)
        let inputs = g.populations.filter { $0.kind == .input }.reduce(0) { $0 + $1.size }
        let data = try dataSet(pp, inputs: inputs)
        var es = ExperimentSpec(name: spec.name, graph: g, target: pp.target, seeds: [pp.seed])
        es.models = [.chip]
        es.threads = innerThreads
        es.replicateMacros = pp.replicateMacros || spec.workload.lsm == "nalsm"
        es.validationFraction = doubleParam(pp, "validation_fraction", 0.2)
        es.splitSeed = UInt64(intParam(pp, "validation_seed", 1))
        guard let r = try Experiment.run(es, data: data).first(where: { $0.kind == .chip }) else {
            throw XbarError(file: spec.path, field: "workload", "the experiment returned no chip result")
        }
        // Energy and ops: the test split on the chip with the trained integer readout, exactly as the experiment ran it.
        var trained = es.reseed ? Experiment.reseeded(g, seed: pp.seed) : g
        trained.readout = Readout(from: trained.readout!.from, classes: r.readout.classes, weights: r.readout.weights, bias: r.readout.bias)
        var facts = RunFacts(counters: Counters(), samples: data.test.count, program: Program(name: "", target: "", timesteps: 0,
                             inputs: [], neurons: [], arrays: [], readouts: [], step: []), programmingPulses: 0, accuracy: r.testAccuracy)
        if spec.metrics.contains(where: { $0 != .accuracy }) {
            let c = try Compiler.compile(trained, target: pp.target,
                                         options: CompileOptions(replicateMacros: es.replicateMacros, seed: pp.seed))
            let chip = try Chip(program: c.program, target: pp.target, seed: pp.seed)
            // The test split on the trained chip, indexed from 0 as `xbar run` indexes a file (the experiment's
            // contract): its predictions must reproduce the experiment's accuracy, which is checked.
            let ds = EventDataset(channels: data.channels, timesteps: data.timesteps, samples: data.test)
            let out = try Runner(chip: chip, engine: .fast, options: RunOptions(seed: pp.seed, threads: innerThreads)).run(ds, file: "<test split>")
            let tot = out.totals
            let rname = c.program.readouts.first?.name ?? ""
            let right = zip(data.test, out.samples).filter { s, res in s.label != nil && res.prediction(rname) == s.label }.count
            let again = Double(right) / Double(max(1, data.test.count))
            guard again == r.testAccuracy else {
                throw XbarError(file: spec.path, field: "workload", "re-running the trained chip gave accuracy \(again), the experiment \(r.testAccuracy)")
            }
            facts.counters = tot
            facts.program = c.program
            facts.programmingPulses = chip.programmingPulses
        }
        return facts
    }
}
