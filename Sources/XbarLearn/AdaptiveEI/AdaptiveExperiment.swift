import Foundation
import XbarCompiler
import XbarCore
import XbarCost
import XbarEmulator
import XbarEvents
import XbarGraph
import XbarIR
import XbarTarget

/// What the adaptive E/I experiment runs (docs/experiment.md, "Adaptive E/I reservoir").
public struct AdaptiveEISpec: Sendable {
    public var options = AdaptiveReservoir.Options()
    public var rule = AdaptiveReservoir.Rule()
    public var target: Target
    public var seeds: [UInt64]
    public var tasks: [TimeSeriesTask] = TimeSeriesTask.allCases
    public var models: [ModelKind] = [.software, .chip]
    public var conditions: [AdaptiveReservoir.Adaptation] = AdaptiveReservoir.Adaptation.allCases
    /// The global baseline's sweep of the inhibition scale g; the adapted reservoirs start from g = 1.
    public var inhibitions: [Double] = [0.5, 0.75, 1, 1.25, 1.5, 2, 3]
    /// The adapted reservoirs' sweep of the rule's mean target rate (spikes per step).
    public var targetRates: [Double] = [0.1, 0.2, 0.3]
    public var washout = 200
    public var trainLength = 1500
    public var testLength = 1000
    /// Sequences of the task's input (each washout + train + test steps) the adaptation runs over before freezing.
    public var adaptSequences = 1
    /// Memory capacity sums r^2 over delays 1 ... maxDelay.
    public var maxDelay = 30
    /// Fraction of the training steps that chooses the ridge penalty and the baseline's g.
    public var validation = 0.2
    /// Workers over the (seed, task) jobs (0 = OMP_NUM_THREADS or all cores).
    public var threads = 0

    public init(target: Target, seeds: [UInt64]) {
        self.target = target
        self.seeds = seeds
    }

    public var steps: Int { washout + trainLength + testLength }
}

/// One (task, condition, model, seed) of the experiment.
public struct AdaptiveEIResult: Sendable {
    public var task: TimeSeriesTask
    public var condition: AdaptiveReservoir.Adaptation
    public var model: ModelKind
    public var seed: UInt64
    /// Memory capacity (higher is better) or NRMSE (lower is better) on the test steps.
    public var score: Double
    /// The inhibition scale g of the reservoir (the baseline's choice on validation; the adapted ones start at 1).
    public var inhibition: Double
    /// Memory capacity: r^2 per delay 1 ... maxDelay.
    public var curve: [Double] = []
    /// The adapted reservoir's mean target rate (its choice on validation; nil for the baseline).
    public var targetRate: Double? = nil
    /// The sweep: (g for the baseline, the mean target rate for an adapted reservoir; validation score).
    public var sweep: [(setting: Double, validation: Double)] = []
    /// Firing rate over the test steps, spikes per step: mean and standard deviation across neurons.
    public var meanRate: Double = 0
    public var rateSpread: Double = 0
    /// Chip: learning pulses, their write energy (pJ), cells past the endurance, the largest write count; energy per
    /// input step of the evaluation run (pJ) and DAC rows driven per step.
    public var pulses: Int64 = 0
    public var writeEnergyPJ: Double = 0
    public var wornCells: Int64 = 0
    public var maxWrites: UInt32 = 0
    public var energyPerStepPJ: Double? = nil
    public var dacRowsPerStep: Double = 0
    public var seconds: Double = 0
}

/// Adaptive E/I balance in a spiking reservoir, learning in software (Double) and on the chip (inhibitory cells written
/// by the homeostatic rule), against the best globally tuned reservoir.
public enum AdaptiveEIExperiment {
    /// A reservoir's spikes over one sequence, as readout features (one row of neuron traces per step).
    struct Run {
        var features: [Double]
        var neurons: Int
        var meanRate: Double
        var rateSpread: Double
        var energyPerStepPJ: Double?
    }

    /// Every (seed, task) is an independent job (its own reservoirs, sequences and chip instance), run on `threads`
    /// workers; results come back in (seed, task, model, condition) order whatever the thread count.
    public static func run(_ spec: AdaptiveEISpec, hooks: ExperimentHooks = ExperimentHooks()) throws -> [AdaptiveEIResult] {
        let jobs = spec.seeds.flatMap { seed in spec.tasks.map { (seed, $0) } }
        let box = Slots<Result<[AdaptiveEIResult], Error>>(jobs.count)
        parallelFor(jobs.count, threads: spec.threads) { j in
            box.set(j, Result { try job(jobs[j].1, seed: jobs[j].0, spec: spec, hooks: hooks) })
        }
        return try box.values.flatMap { try $0.get() }
    }

    static func job(_ task: TimeSeriesTask, seed: UInt64, spec: AdaptiveEISpec, hooks: ExperimentHooks) throws -> [AdaptiveEIResult] {
        var o = spec.options
        o.seed = seed
        let eval = task.series(length: spec.steps, seed: seed, sequence: 0)
        let adapt = (1...max(1, spec.adaptSequences)).map { task.series(length: spec.steps, seed: seed, sequence: UInt32($0)).input }
        var results: [AdaptiveEIResult] = []
        for model in spec.models where model != .chipFloat {
            for condition in spec.conditions {
                let start = Date()
                var r = try evaluate(task, condition: condition, model: model, options: o, spec: spec, eval: eval, adapt: adapt, hooks: hooks)
                r.seconds = Date().timeIntervalSince(start)
                hooks.log(String(format: "seed %llu %@ %@ %@: %@ %.4f (g %.2f, target %.2f, rate %.3f)", seed, task.rawValue, condition.rawValue,
                                 model.rawValue, task == .memory ? "MC" : "NRMSE", r.score, r.inhibition, r.targetRate ?? .nan, r.meanRate))
                results.append(r)
            }
        }
        return results
    }

    /// One condition of one model: the baseline sweeps g and keeps the best on validation; the adapted reservoirs learn
    /// on the adaptation sequences from g = 1, then are frozen.
    static func evaluate(_ task: TimeSeriesTask, condition: AdaptiveReservoir.Adaptation, model: ModelKind, options o: AdaptiveReservoir.Options,
                         spec: AdaptiveEISpec, eval: TimeSeriesTask.Series, adapt: [[Double]], hooks: ExperimentHooks) throws -> AdaptiveEIResult {
        let bits = o.dacBits
        var r = AdaptiveEIResult(task: task, condition: condition, model: model, seed: o.seed, score: 0, inhibition: 1)
        r.dacRowsPerStep = Double(eval.input.reduce(0) { $0 + DACInput.rows($1, bits: bits).count }) / Double(max(1, eval.input.count))
        let label = "seed \(o.seed) \(task.rawValue) \(condition.rawValue) \(model.rawValue)"
        // The baseline sweeps g; an adapted reservoir starts from g = 1 and sweeps the mean target rate of its rule.
        // Each keeps its best setting on validation (the same budget of one tuned hyperparameter).
        let settings = condition == .none ? spec.inhibitions : spec.targetRates
        var best: (score: Double, val: Double, curve: [Double], run: Run, setting: Double, learning: AdaptiveEIResult)? = nil
        for (k, x) in settings.enumerated() {
            var og = o, rule = spec.rule
            if condition == .none { og.inhibition = x } else { rule.targetRate = x }
            let graph = AdaptiveReservoir.graph(og, adaptation: condition, rule: rule, timesteps: spec.steps)
            var learning = r
            let run = try reservoir(graph, model: model, options: og, spec: spec, input: eval.input, adapt: condition == .none ? [] : adapt,
                                    result: &learning)
            let s = try score(task, run, eval, spec: spec)
            r.sweep.append((x, s.validation))
            let better = best == nil || (task == .memory ? s.validation > best!.val : s.validation < best!.val)
            if better { best = (s.test, s.validation, s.curve, run, x, learning) }
            hooks.progress(label + " sweep", k + 1, settings.count)
        }
        let b = best!
        let sweep = r.sweep
        r = b.learning
        r.sweep = sweep
        r.score = b.score
        r.curve = b.curve
        if condition == .none { r.inhibition = b.setting } else { r.targetRate = b.setting }
        r.meanRate = b.run.meanRate
        r.rateSpread = b.run.rateSpread
        r.energyPerStepPJ = b.run.energyPerStepPJ
        return r
    }

    /// Runs the reservoir on `input` (after learning on `adapt` when the graph is plastic) in software or on the chip.
    static func reservoir(_ g: Graph, model: ModelKind, options o: AdaptiveReservoir.Options, spec: AdaptiveEISpec, input: [Double],
                          adapt: [[Double]], result r: inout AdaptiveEIResult) throws -> Run {
        let raster = DACInput.raster(input, bits: o.dacBits)
        let adaptRasters = adapt.map { DACInput.raster($0, bits: o.dacBits) }
        let n = o.neurons
        var trains: [[Int32]]
        var energy: Double? = nil
        if model == .software {
            var net = try FloatNetwork(graph: g)
            if g.projections.contains(where: { $0.plasticity != nil }) {
                net = FloatPlasticity(graph: g, network: net).learn(net, samples: adaptRasters)
            }
            let ri = net.neuronIndex("res")!
            trains = net.simulate(raster, spikes: true).spikeTrains[ri]
        } else {
            let compiled = try Compiler.compile(g, target: spec.target, options: CompileOptions(replicateMacros: true, seed: o.seed))
            var program = compiled.program
            if program.isPlastic {
                let chip = try Chip(program: program, target: spec.target, seed: o.seed)
                let data = EventDataset(channels: 2 * o.dacBits, timesteps: spec.steps, samples: adaptRasters)
                let outcome = try Runner(chip: chip, engine: .fast, options: RunOptions(seed: o.seed, threads: 1)).run(data, file: "<adaptation>")
                let state = outcome.learned!
                program = PlasticExperiment.frozen(state.learnedProgram(program))
                let w = LearningWear(outcome.totals.learning, state: state, target: spec.target)
                r.pulses = w.pulses
                r.writeEnergyPJ = w.writeEnergyPJ
                r.wornCells = w.wornCells
                r.maxWrites = w.maxWrites
            }
            let chip = try Chip(program: program, target: spec.target, seed: o.seed)
            let binding = try InputBinding(program: program, channels: 2 * o.dacBits, file: "<analog input>")
            let res = FastEngine(chip: chip).run(raster, index: 0, binding: binding)
            trains = res.spikeTrains("res", steps: spec.steps)
            energy = CostModel.report(counters: res.counters, program: program, target: spec.target, samples: 1).perSamplePJ / Double(spec.steps)
        }
        var features = [Double](repeating: 0, count: spec.steps * n)
        var x = [Double](repeating: 0, count: n), counts = [Double](repeating: 0, count: n)
        for t in 0..<spec.steps {
            for i in 0..<n { x[i] *= o.traceDecay }
            for s in trains[t] { x[Int(s)] += 1; if t >= spec.washout + spec.trainLength { counts[Int(s)] += 1 } }
            for i in 0..<n { features[t * n + i] = x[i] }
        }
        let rates = counts.map { $0 / Double(max(1, spec.testLength)) }
        let (m, sd) = Experiment.meanStd(rates)
        return Run(features: features, neurons: n, meanRate: m, rateSpread: sd, energyPerStepPJ: energy)
    }

    /// The task's score on the test steps (readout trained on the training steps) and on validation (readout trained
    /// on the first part of the training steps, scored on the rest).
    static func score(_ task: TimeSeriesTask, _ run: Run, _ s: TimeSeriesTask.Series, spec: AdaptiveEISpec) throws
        -> (test: Double, validation: Double, curve: [Double]) {
        let n = run.neurons, w = spec.washout, tr = spec.trainLength
        let fit = Int(Double(tr) * (1 - spec.validation))
        func rows(_ a: Int, _ b: Int) -> [Double] { Array(run.features[(a * n)..<(b * n)]) }
        let xFit = rows(w, w + fit), xVal = rows(w + fit, w + tr), xTrain = rows(w, w + tr), xTest = rows(w + tr, spec.steps)
        func target(_ k: Int) -> [Double] { (0..<spec.steps).map { $0 - k >= 0 ? s.target[$0 - k] : 0 } }
        let onValidation = RidgeRegression.Fit(train: xFit, test: xVal, features: n)
        let onTest = RidgeRegression.Fit(train: xTrain, test: xTest, features: n)
        func one(_ y: [Double]) throws -> (test: [Double], val: [Double], yTest: [Double], yVal: [Double]) {
            let pv = try onValidation.predict(Array(y[w..<(w + fit)]))
            let pt = try onTest.predict(Array(y[w..<(w + tr)]))
            return (pt, pv, Array(y[(w + tr)...]), Array(y[(w + fit)..<(w + tr)]))
        }
        if task == .memory {
            var curve: [Double] = [], val = 0.0
            for k in 1...spec.maxDelay {
                let p = try one(target(k))
                curve.append(RidgeRegression.rSquared(p.test, p.yTest))
                val += RidgeRegression.rSquared(p.val, p.yVal)
            }
            return (curve.reduce(0, +), val, curve)
        }
        let p = try one(s.target)
        return (RidgeRegression.nrmse(p.test, p.yTest), RidgeRegression.nrmse(p.val, p.yVal), [])
    }
}
