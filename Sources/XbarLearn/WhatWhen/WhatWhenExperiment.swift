import Foundation
import XbarCompiler
import XbarCore
import XbarEmulator
import XbarEvents
import XbarGraph
import XbarIR
import XbarTarget

/// What the what-and-when experiment runs (docs/experiment.md, "What and when").
public struct WhatWhenSpec: Sendable {
    public var network = WhatWhenNetwork.Options()
    public var paradigm = WhatWhenParadigm()
    public var target: Target
    public var seeds: [UInt64]
    public var models: [ModelKind] = [.software, .chip]
    /// p(A) of the learning runs (one run per level, from the untrained readout); the last run continues with a
    /// second block whose latency of A switches to `switchLatencyA`.
    public var probabilities: [Double] = [0.2, 0.5, 0.8]
    /// Event latencies, steps from the trial's start (the cue starts at `paradigm.cueOnset`).
    public var latencyA = 106
    public var latencyB = 113
    public var switchLatencyA = 110
    public var learnTrials = 100
    public var testTrials = 20
    /// Workers over the (seed, model) jobs (0 = OMP_NUM_THREADS or all cores).
    public var threads = 0

    public init(target: Target, seeds: [UInt64]) {
        self.target = target
        self.seeds = seeds
    }
}

/// The readout's learned response to the cue alone, against the expectation it should learn.
public struct WhatWhenResponse: Sendable {
    /// Per channel (A, B): mean spikes per readout neuron per step over the test trials.
    public var response: [[Double]]
    /// Per channel: the probability-weighted expected stimulus per step.
    public var expectation: [[Double]]
    /// Per channel: |step of the response's peak after the cue - the latency| (steps, 5-step moving average).
    public var timingError: [Int]
    /// Per channel: mean response over the event steps minus the mean over the pre-event baseline window.
    public var magnitude: [Double]
}

/// One (model, seed, p(A)) learning run.
public struct WhatWhenResult: Sendable {
    public var model: ModelKind
    public var seed: UInt64
    public var pA: Double
    /// After the first block (latencies A, B as the spec).
    public var learned: WhatWhenResponse
    /// The run with a switch: after the second block, the per-trial error over both blocks (mean squared difference
    /// of the pool's response and the expectation over the gate windows), and the trials the error took to come
    /// back to its level before the switch (nil: it did not within the block).
    public var switched: WhatWhenResponse? = nil
    public var trialErrors: [Double] = []
    public var trialsToRecover: Int? = nil
    /// Chip: learning pulses, their write energy (pJ), cells past the endurance, the largest write count.
    public var pulses: Int64 = 0
    public var writeEnergyPJ: Double = 0
    public var wornCells: Int64 = 0
    public var maxWrites: UInt32 = 0
    public var seconds: Double = 0
}

/// The heterogeneous Izhikevich reservoir with its three-factor readout learning the paradigm online, in software
/// (Double) and on the chip (readout cells written by the rule while trials run).
public enum WhatWhenExperiment {
    public static func run(_ spec: WhatWhenSpec, hooks: ExperimentHooks = ExperimentHooks()) throws -> [WhatWhenResult] {
        let jobs = spec.seeds.flatMap { seed in spec.models.filter { $0 != .chipFloat }.flatMap { m in spec.probabilities.indices.map { (seed, m, $0) } } }
        let box = Slots<Result<WhatWhenResult, Error>>(jobs.count)
        parallelFor(jobs.count, threads: spec.threads) { j in
            let (seed, model, k) = jobs[j]
            box.set(j, Result {
                let start = Date()
                var r = try learningRun(spec, seed: seed, model: model, probability: k, switching: k == spec.probabilities.count - 1)
                r.seconds = Date().timeIntervalSince(start)
                hooks.log(String(format: "seed %llu %@ p(A) %.2f: timing error A %d B %d, magnitude A %.3f B %.3f%@", seed, model.rawValue,
                                 r.pA, r.learned.timingError[0], r.learned.timingError[1], r.learned.magnitude[0], r.learned.magnitude[1],
                                 r.switched.map { String(format: "; after the switch: timing error A %d, recovered in %@ trials", $0.timingError[0],
                                                                 r.trialsToRecover.map { "\($0)" } ?? "-") } ?? ""))
                return r
            })
            hooks.progress("learning runs", box.done, jobs.count)
        }
        return try box.values.map { try $0.get() }
    }

    /// A learner: software (one `FloatPlasticity` over every block) or the chip (one chip state carried across blocks).
    final class Learner {
        let spec: WhatWhenSpec
        let graph: Graph
        let seed: UInt64
        let model: ModelKind
        var net: FloatNetwork?
        var plasticity: FloatPlasticity?
        var program: Program?
        var learning = LearningCounters()
        var state: ChipState?

        init(_ spec: WhatWhenSpec, graph: Graph, seed: UInt64, model: ModelKind) throws {
            self.spec = spec
            self.graph = graph
            self.seed = seed
            self.model = model
            if model == .software {
                let n = try FloatNetwork(graph: graph)
                net = n
                plasticity = FloatPlasticity(graph: graph, network: n)
            } else {
                program = try Compiler.compile(graph, target: spec.target, options: CompileOptions(replicateMacros: true, seed: seed)).program
            }
        }

        /// Learns on `trials` in order; returns each trial's readout spikes per channel and step.
        func learn(_ trials: [SpikeRaster]) throws -> [[[Int]]] {
            if let net, let plasticity {
                let pools = WhatWhenNetwork.channelNames.map { net.neuronIndex("read_\($0)")! }
                return trials.map { s in
                    let run = net.simulate(s, spikes: true, plasticity: plasticity)
                    return pools.map { p in run.spikeTrains[p].map(\.count) }
                }
            }
            let chip = try Chip(program: program!, target: spec.target, seed: seed)
            let data = EventDataset(channels: spec.paradigm.channels, timesteps: spec.paradigm.trialSteps, samples: trials)
            let outcome = try Runner(chip: chip, engine: .fast, options: RunOptions(seed: seed, threads: 1)).run(data, file: "<trials>")
            let st = outcome.learned!
            program = st.learnedProgram(program!)
            state = st
            learning.add(outcome.totals.learning)
            return outcome.samples.map(pools)
        }

        /// The frozen readout's spikes per channel and step on test trials (no learning).
        func test(_ trials: [SpikeRaster]) throws -> [[[Int]]] {
            if let net, let plasticity {
                let frozen = plasticity.learned(net)
                let pools = WhatWhenNetwork.channelNames.map { frozen.neuronIndex("read_\($0)")! }
                return trials.map { s in
                    let run = frozen.simulate(s, spikes: true)
                    return pools.map { p in run.spikeTrains[p].map(\.count) }
                }
            }
            let frozen = PlasticExperiment.frozen(program!)
            let chip = try Chip(program: frozen, target: spec.target, seed: seed)
            let binding = try InputBinding(program: frozen, channels: spec.paradigm.channels, file: "<test trials>")
            let engine = FastEngine(chip: chip)
            return trials.enumerated().map { k, s in pools(engine.run(s, index: k, binding: binding)) }
        }

        /// A chip sample's readout spikes per channel and step.
        func pools(_ r: SampleResult) -> [[Int]] {
            WhatWhenNetwork.channelNames.map { c in r.spikeTrains("read_\(c)", steps: spec.paradigm.trialSteps).map(\.count) }
        }
    }

    static func learningRun(_ spec: WhatWhenSpec, seed: UInt64, model: ModelKind, probability k: Int, switching: Bool) throws -> WhatWhenResult {
        let p = spec.paradigm
        let pA = spec.probabilities[k]
        let g = WhatWhenNetwork.graph(spec.network, paradigm: p, seed: seed)
        let learner = try Learner(spec, graph: g, seed: seed, model: model)
        let block1 = WhatWhenParadigm.Block(pA: pA, latencyA: spec.latencyA, latencyB: spec.latencyB, trials: spec.learnTrials)
        let trialSeed = seed &* 1000 &+ UInt64(k)
        let first = try learner.learn(p.trials(block1, seed: trialSeed, first: 0, learning: true).rasters)
        let testTrials = WhatWhenParadigm.Block(pA: pA, latencyA: spec.latencyA, latencyB: spec.latencyB, trials: spec.testTrials)
        let tests = p.trials(testTrials, seed: trialSeed, first: 0, learning: false).rasters
        var r = WhatWhenResult(model: model, seed: seed, pA: pA, learned: response(try learner.test(tests), block1, spec: spec))
        var errors = first.map { trialError($0, block1, spec: spec) }
        if switching {
            let block2 = WhatWhenParadigm.Block(pA: pA, latencyA: spec.switchLatencyA, latencyB: spec.latencyB, trials: spec.learnTrials)
            let second = try learner.learn(p.trials(block2, seed: trialSeed, first: spec.learnTrials, learning: true).rasters)
            errors += second.map { trialError($0, block2, spec: spec) }
            r.switched = response(try learner.test(tests), block2, spec: spec)
            r.trialsToRecover = recovery(errors, switchAt: spec.learnTrials)
        }
        r.trialErrors = errors
        if model == .chip {
            let w = LearningWear(learner.learning, state: learner.state, target: spec.target)
            r.pulses = w.pulses
            r.writeEnergyPJ = w.writeEnergyPJ
            r.wornCells = w.wornCells
            r.maxWrites = w.maxWrites
        }
        return r
    }

    /// Mean response per readout neuron and step, timing error and magnitude per channel.
    static func response(_ spikes: [[[Int]]], _ b: WhatWhenParadigm.Block, spec: WhatWhenSpec) -> WhatWhenResponse {
        let p = spec.paradigm, pool = Double(spec.network.pool), n = Double(max(1, spikes.count))
        var resp: [[Double]] = [], exp: [[Double]] = [], timing: [Int] = [], mag: [Double] = []
        for c in 0..<2 {
            let r = (0..<p.trialSteps).map { t in spikes.reduce(0.0) { $0 + Double($1[c][t]) } / (n * pool) }
            let lat = c == 0 ? b.latencyA : b.latencyB
            // The peak of the 5-step moving average after the cue (its window's first step).
            let w = p.eventSteps
            let afterCue = p.cueOnset + p.cueSteps
            var best = (t: afterCue, v: -Double.infinity)
            for t in afterCue...(p.trialSteps - w) {
                let v = r[t..<(t + w)].reduce(0, +)
                if v > best.v { best = (t, v) }
            }
            let event = r[lat..<Swift.min(p.trialSteps, lat + w)].reduce(0, +) / Double(w)
            let baseLo = afterCue, baseHi = Swift.max(baseLo + 1, Swift.min(b.latencyA, b.latencyB) - p.gateHalfWidth)
            let baseline = r[baseLo..<baseHi].reduce(0, +) / Double(baseHi - baseLo)
            resp.append(r)
            exp.append(p.expectation(b, channel: c))
            timing.append(abs(best.t - lat))
            mag.append(event - baseline)
        }
        return WhatWhenResponse(response: resp, expectation: exp, timingError: timing, magnitude: mag)
    }

    /// A trial's error: mean over both channels' gate windows of (pool response - expectation)^2.
    static func trialError(_ spikes: [[Int]], _ b: WhatWhenParadigm.Block, spec: WhatWhenSpec) -> Double {
        let p = spec.paradigm, pool = Double(spec.network.pool)
        var sum = 0.0, count = 0
        for c in 0..<2 {
            let lat = c == 0 ? b.latencyA : b.latencyB
            let e = p.expectation(b, channel: c)
            for t in Swift.max(0, lat - p.gateHalfWidth)..<Swift.min(p.trialSteps, lat + p.eventSteps + p.gateHalfWidth) {
                let d = Double(spikes[c][t]) / pool - e[t]
                sum += d * d
                count += 1
            }
        }
        return sum / Double(max(1, count))
    }

    /// Trials after the switch until the 10-trial moving average of the error is back within 10 % of its mean over the
    /// last 20 trials before the switch (nil if it never is).
    static func recovery(_ errors: [Double], switchAt s: Int, window: Int = 10) -> Int? {
        guard s >= 20, errors.count > s + window else { return nil }
        let before = errors[(s - 20)..<s].reduce(0, +) / 20
        for k in window...(errors.count - s) {
            let m = errors[(s + k - window)..<(s + k)].reduce(0, +) / Double(window)
            if m <= 1.1 * before { return k }
        }
        return nil
    }
}
