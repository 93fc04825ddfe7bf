import XbarCore
import XbarEvents
import XbarGraph
import XbarIR

/// A spiking network simulated in Double precision: the software counterpart of a chip run.
///
/// Per step t, for each LIF population in schedule order: I = sum over incoming edges of the rows of W for the source
/// spikes at t - delay (delays 0 ... 4096); with a synapse, c = synapse.decay * c + I + sb_i and the membrane takes c
/// instead of I (c integrates during refractory steps too); v = decay * m + I (or c) + b_i; a spiking population spikes
/// when v > threshold (>= for `ge`), then resets (to 0 or by subtracting the threshold) and stays silent `refractory`
/// steps (membrane held); a non-spiking one keeps v. b_i and sb_i are the scalar plus per-neuron biases (docs/graph.md).
/// Inputs are the channels of the event sample, split over the input populations in declaration order (as the emulator
/// binds them).
public struct FloatNetwork: Sendable {
    /// One LIF population's parameters in the twin's units.
    public struct Neurons: Sendable {
        public var name: String
        public var size: Int
        public var decay: Double
        public var threshold: Double
        public var bias: Double
        public var subtract: Bool
        public var ge: Bool
        public var refractory: Int
        /// Per-neuron bias added to `bias`, or nil.
        public var neuronBias: [Double]? = nil
        /// Current-based synapse in front of the membrane, or nil.
        public var synapse: Synapse? = nil
        /// False for a leaky integrator that never spikes.
        public var spiking = true
        /// A registered neuron model's double-precision dynamics (docs/ir.md, "Neuron models"), replacing the LIF
        /// update above; nil for LIF.
        public var dynamics: (any FloatNeuronDynamics)? = nil

        /// The bias of neuron i: bias + neuronBias[i].
        public func bias(of i: Int) -> Double { bias + (neuronBias?[i] ?? 0) }
    }

    /// A synaptic current state: c = decay * c + I + bias + neuronBias[i].
    public struct Synapse: Sendable {
        public var decay: Double
        public var bias: Double
        public var neuronBias: [Double]?
        public func bias(of i: Int) -> Double { bias + (neuronBias?[i] ?? 0) }
    }

    /// The outcome of one simulated sample.
    public struct Run: Sendable {
        /// Spike counts per population (update order).
        public var counts: [[Int64]]
        /// Source spikes x fan-out over the sample.
        public var synapticOps: Int64
        /// Final membrane per population.
        public var membrane: [[Double]]
        /// Final synaptic current per population (empty for populations without a synapse).
        public var synapse: [[Double]]
        /// With tracing: membraneTrace[pop][t][i] = v (or the held membrane while refractory), and the synaptic current
        /// after its update in synapseTrace (empty without a synapse).
        public var membraneTrace: [[[Double]]]
        public var synapseTrace: [[[Double]]]
        /// With `spikes`: every population's spiking neurons at every step, `spikeTrains[population][t]`.
        public var spikeTrains: [[[Int32]]] = []
    }

    public struct Edge: Sendable {
        /// Index into `sources` (inputs first, then neuron populations).
        public var source: Int
        public var delay: Int
        /// Row-major source.size x post.
        public var weights: [Double]
    }

    /// Input populations (name, size), in channel order.
    public var inputs: [(name: String, size: Int)]
    /// LIF populations in update order, with their incoming edges.
    public var neurons: [Neurons]
    public var incoming: [[Edge]]

    var sourceCount: Int { inputs.count + neurons.count }

    /// The graph's own weights (Materialize: the seeded Gaussian or spatial draws) in real units: the paper's software LSM.
    public init(graph g: Graph, file: String = "<graph>") throws {
        let order = try Schedule.order(g, file: file)
        inputs = g.populations.filter { $0.kind == .input }.map { ($0.name, $0.size) }
        var ns: [Neurons] = []
        for name in order {
            let p = g.population(named: name)!
            if let m = p.model {
                let model = try NeuronModels.require(m.model, file: file, field: "populations.\(name).kind")
                ns.append(Neurons(name: name, size: p.size, decay: 0, threshold: 0, bias: 0, subtract: false, ge: true,
                                  refractory: 0, dynamics: model.floatDynamics(m, size: p.size)))
                continue
            }
            let l = p.lif!
            ns.append(Neurons(name: name, size: p.size, decay: l.decay, threshold: l.threshold, bias: l.bias,
                              subtract: l.reset == .subtract, ge: l.compare == .ge, refractory: l.spiking ? l.refractory : 0,
                              neuronBias: l.neuronBias,
                              synapse: l.synapse.map { Synapse(decay: $0.decay, bias: $0.bias, neuronBias: $0.neuronBias) },
                              spiking: l.spiking))
        }
        neurons = ns
        let names = inputs.map(\.name) + order
        incoming = try ns.map { n in
            try g.projections.filter { $0.to == n.name }.map { pr in
                let src = g.population(named: pr.from)!
                try pr.requireDenseForm(pre: src.size, post: n.size, file: file, field: "projections.\(pr.name).weights", for: "the float twin")
                return Edge(source: names.firstIndex(of: pr.from)!, delay: pr.delay,
                            weights: Materialize.weights(pr, pre: src.size, post: n.size))
            }
        }
    }

    /// The chip's realised conductances as float weights: every read of the program is treated as exact and linear
    /// (no read or ADC noise, no ADC rounding or clipping, no fixed-point rounding), so W[source row][neuron] =
    /// sum over the program's paths read -> adc (1/lsb) -> slice -> sub/add -> scale (mul / 2^shift) of the cell codes
    /// in `codes` (one array per program array, e.g. `Chip.codes`). Units are membrane LSBs; thresholds, decays and
    /// biases come from the program's neuron declarations. This is "the same sampled weights in floating point".
    /// A registered model's population runs its `floatDynamics(program:)`: its fixed-point parameters read as reals.
    public init(program p: Program, codes: [CellCodes]) throws {
        inputs = p.inputs.map { ($0.name, $0.size) }
        // Schedule order = order of the neuron update ops (lif or a model's) in the step.
        var order: [String] = []
        for op in p.step {
            switch op.kind {
            case let .lif(pop, _), let .neuron(_, pop, _): order.append(pop)
            default: break
            }
        }
        neurons = try order.map { name in
            let n = p.neuron(named: name)!
            if let m = n.model {
                let model = try NeuronModels.require(m.model, file: "<program>", field: "neuron @\(name)")
                return Neurons(name: name, size: n.size, decay: 0, threshold: 0, bias: 0, subtract: false, ge: true, refractory: 0,
                               dynamics: model.floatDynamics(program: m, size: n.size))
            }
            return Neurons(name: name, size: n.size, decay: Double(n.decayMul) / Double(Int64(1) << n.decayShift),
                           threshold: Double(n.threshold), bias: Double(n.bias), subtract: n.reset == .subtract, ge: n.compare == .ge,
                           refractory: n.spiking ? n.refractory : 0, neuronBias: n.neuronBias?.map(Double.init),
                           synapse: n.synapse.map { y in
                               Synapse(decay: Double(y.decayMul) / Double(Int64(1) << y.decayShift), bias: Double(y.bias),
                                       neuronBias: y.neuronBias?.map(Double.init))
                           },
                           spiking: n.spiking)
        }
        let names = inputs.map(\.name) + order
        let sizes = inputs.map(\.size) + neurons.map(\.size)
        let arrayIndex = Dictionary(uniqueKeysWithValues: p.arrays.enumerated().map { ($0.element.name, $0.offset) })
        typealias Term = (read: Int, col: Int, coef: Double)
        var terms: [String: [[Term]]] = [:]
        var edges: [String: [String: Int]] = [:]  // pop -> "source/delay" -> edge index
        var inc: [[Edge]] = Array(repeating: [], count: order.count)
        for (k, op) in p.step.enumerated() {
            switch op.kind {
            case .read:
                terms[op.result] = (0..<op.length).map { [(k, $0, 1.0)] }
            case let .adc(o, _, lsb, _, _):
                terms[op.result] = terms[o]!.map { $0.map { ($0.read, $0.col, $0.coef / Double(lsb)) } }
            case let .slice(o, start, stride):
                let x = terms[o]!
                terms[op.result] = (0..<op.length).map { x[start + $0 * stride] }
            case let .concat(os):
                terms[op.result] = os.flatMap { terms[$0]! }
            case let .add(a, b, _):
                let x = terms[a]!, y = terms[b]!
                terms[op.result] = (0..<op.length).map { x[$0] + y[$0] }
            case let .sub(a, b, _):
                let x = terms[a]!, y = terms[b]!
                terms[op.result] = (0..<op.length).map { x[$0] + y[$0].map { ($0.read, $0.col, -$0.coef) } }
            case let .scale(o, mul, shift, _, _):
                let f = Double(mul) / Double(Int64(1) << shift)
                terms[op.result] = terms[o]!.map { $0.map { ($0.read, $0.col, $0.coef * f) } }
            case .trace, .stdp, .modulator, .homeostasis: break  // the twin reads the cells as they are; it does not learn
            case let .lif(pop, input), let .neuron(_, pop, input):
                let ni = order.firstIndex(of: pop)!
                let post = neurons[ni].size
                for (i, ts) in terms[input]!.enumerated() {
                    for t in ts {
                        guard case let .read(arrayName, rows, colStart, _, _, _) = p.step[t.read].kind else { continue }
                        let ai = arrayIndex[arrayName]!
                        let cols = p.arrays[ai].cols
                        for rs in rows {
                            let key = "\(rs.source)/\(rs.delay)"
                            var e = edges[pop]?[key]
                            if e == nil {
                                let si = names.firstIndex(of: rs.source)!
                                inc[ni].append(Edge(source: si, delay: rs.delay, weights: [Double](repeating: 0, count: sizes[si] * post)))
                                e = inc[ni].count - 1
                                edges[pop, default: [:]][key] = e
                            }
                            for r in 0..<rs.count {
                                let g = Double(codes[ai][(rs.rowStart + r) * cols + colStart + t.col])
                                inc[ni][e!].weights[(rs.srcStart + r) * post + i] += t.coef * g
                            }
                        }
                    }
                }
            }
        }
        incoming = inc
    }

    /// Spike counts per LIF population (update order) for one sample, and the synaptic operations done
    /// (source spikes x fan-out, the event-driven op count).
    public func run(_ s: SpikeRaster) -> (counts: [[Int64]], synapticOps: Int64) {
        let r = simulate(s)
        return (r.counts, r.synapticOps)
    }

    /// Simulates one sample; `trace` records every population's membrane (and synaptic current) at every step.
    /// With `plasticity`, its current weights are used and it learns at the end of every step (samples must then run
    /// one at a time, in order).
    public func simulate(_ s: SpikeRaster, trace: Bool = false, spikes: Bool = false, plasticity: FloatPlasticity? = nil) -> Run {
        plasticity?.beginSample()
        var ops: Int64 = 0
        let maxDelay = incoming.flatMap { $0.map(\.delay) }.max() ?? 0
        let depth = maxDelay + 1
        // history[source][t % depth] = active indices of that source at step t.
        var history = [[[Int32]]](repeating: [[Int32]](repeating: [], count: depth), count: sourceCount)
        var mem = neurons.map { [Double](repeating: 0, count: $0.size) }
        var syn = neurons.map { [Double](repeating: 0, count: $0.synapse == nil ? 0 : $0.size) }
        var refr = neurons.map { [Int](repeating: 0, count: $0.size) }
        var counts = neurons.map { [Int64](repeating: 0, count: $0.size) }
        var modelState = neurons.map { $0.dynamics?.initialState() ?? [] }
        for (ni, st) in modelState.enumerated() where !st.isEmpty { mem[ni] = st[0] }
        var memTrace = [[[Double]]](repeating: [], count: neurons.count), synTrace = memTrace
        var trains = [[[Int32]]](repeating: [], count: spikes ? neurons.count : 0)
        var offsets: [Int] = []
        var o = 0
        for i in inputs { offsets.append(o); o += i.size }
        var current = [Double]()
        for t in 0..<s.timesteps {
            let slot = t % depth
            for (k, inp) in inputs.enumerated() {
                let lo = Int32(offsets[k]), hi = Int32(offsets[k] + inp.size)
                history[k][slot] = t < s.active.count ? s.active[t].compactMap { $0 >= lo && $0 < hi ? $0 - lo : nil } : []
            }
            for (ni, n) in neurons.enumerated() {
                current = [Double](repeating: 0, count: n.size)
                for (ei, e) in incoming[ni].enumerated() where t - e.delay >= 0 {
                    let act = history[e.source][(t - e.delay) % depth]
                    ops += Int64(act.count * n.size)
                    (plasticity?.edgeWeights(ni, ei) ?? e.weights).withUnsafeBufferPointer { w in
                        current.withUnsafeMutableBufferPointer { c in
                            for a in act {
                                let base = Int(a) * n.size
                                for j in 0..<n.size { c[j] += w[base + j] }
                            }
                        }
                    }
                }
                var spk: [Int32] = []
                var trV = trace ? [Double](repeating: 0, count: n.size) : []
                for i in 0..<n.size {
                    if let dyn = n.dynamics {
                        let (spike, v) = dyn.update(i, input: current[i], state: &modelState[ni])
                        if trace { trV[i] = v }
                        if spike {
                            spk.append(Int32(i))
                            counts[ni][i] += 1
                        }
                        continue
                    }
                    var x = current[i]
                    if let y = n.synapse {
                        syn[ni][i] = y.decay * syn[ni][i] + current[i] + y.bias(of: i)
                        x = syn[ni][i]
                    }
                    if refr[ni][i] > 0 {
                        refr[ni][i] -= 1
                        if trace { trV[i] = mem[ni][i] }
                        continue
                    }
                    let v = n.decay * mem[ni][i] + x + n.bias(of: i)
                    if trace { trV[i] = v }
                    if n.spiking && (n.ge ? v >= n.threshold : v > n.threshold) {
                        mem[ni][i] = n.subtract ? v - n.threshold : 0
                        refr[ni][i] = n.refractory
                        spk.append(Int32(i))
                        counts[ni][i] += 1
                    } else {
                        mem[ni][i] = v
                    }
                }
                if !modelState[ni].isEmpty { mem[ni] = modelState[ni][0] }
                if trace {
                    memTrace[ni].append(trV)
                    if n.synapse != nil { synTrace[ni].append(syn[ni]) }
                }
                history[inputs.count + ni][slot] = spk
                if spikes { trains[ni].append(spk) }
            }
            plasticity?.step(t) { q, step in step < 0 || step <= t - depth ? [] : history[q][step % depth] }
        }
        return Run(counts: counts, synapticOps: ops, membrane: mem, synapse: syn, membraneTrace: memTrace, synapseTrace: synTrace,
                   spikeTrains: trains)
    }

    /// Index of a LIF population in `neurons`.
    public func neuronIndex(_ name: String) -> Int? { neurons.firstIndex { $0.name == name } }
}
