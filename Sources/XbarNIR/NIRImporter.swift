import Foundation
import XbarCore
import XbarGraph

/// How `NIRImporter` turns NIR's continuous-time neurons into the graph format's discrete-time LIF.
public struct NIRImportOptions: Sendable {
    /// Discretisation of tau dv/dt = (v_leak - v) + R I over one step dt (docs/nir.md).
    public enum Discretisation: String, CaseIterable, Sendable {
        /// decay = exp(-dt/tau); input and leak scale by (1 - decay). Exact for input held constant over a step.
        case exact
        /// Forward Euler: decay = 1 - dt/tau; input and leak scale by dt/tau.
        case euler
    }

    /// Timestep in seconds.
    public var dt: Double
    /// Reset after a spike (NIR does not store one).
    public var reset: LIFParameters.Reset
    public var discretisation: Discretisation
    /// `timesteps` of the written graph.
    public var timesteps: Int
    /// `name` of the written graph.
    public var name: String

    public init(dt: Double, reset: LIFParameters.Reset, discretisation: Discretisation = .exact, timesteps: Int = 100,
                name: String = "nir") {
        self.dt = dt
        self.reset = reset
        self.discretisation = discretisation
        self.timesteps = timesteps
        self.name = name
    }
}

/// Lowers the subset of NIR the graph format can express: Input -> Affine/Linear -> LIF -> Output chains, direct
/// Input/LIF -> LIF edges (identity weights) and recurrent Affine/Linear projections (a projection closing a cycle
/// gets delay 1). Any other primitive is a one-line error naming the node.
public enum NIRImporter {
    /// The lowered graph, checked by `GraphValidator`. `file` names the source in errors.
    public static func graph(from nir: NIRGraph, options o: NIRImportOptions, file: String) throws -> Graph {
        func fail(_ field: String, _ msg: String) -> XbarError { XbarError(file: file, field: field, msg) }
        guard o.dt > 0, o.dt.isFinite else { throw fail("dt", "expected a positive timestep in seconds, got \(o.dt)") }

        // Which nodes become populations, and each LIF's discretised parameters.
        struct LIFInfo { var decay: Double; var threshold: Double; var gain: [Double]; var bias: [Double] }
        var sizes: [String: Int] = [:]
        var lifs: [String: LIFInfo] = [:]
        var kinds: [String: Population.Kind] = [:]
        for n in nir.nodes {
            let field = "nodes/\(n.name)"
            func param(_ k: String) throws -> NIRArray {
                guard let a = n.parameters[k] else { throw fail(field, "\(n.type.rawValue) node '\(n.name)' has no '\(k)'") }
                return a
            }
            switch n.type {
            case .input:
                let shape = try param("shape").values.map { Int($0) }
                sizes[n.name] = shape.reduce(1, *)
                kinds[n.name] = .input
            case .lif:
                let tau = try param("tau").values
                let count = tau.count
                func perNeuron(_ k: String, _ def: Double?) throws -> [Double] {
                    guard let a = n.parameters[k] else {
                        if let def { return Array(repeating: def, count: count) }
                        throw fail(field, "LIF node '\(n.name)' has no '\(k)'")
                    }
                    if a.count == count { return a.values }
                    if a.count == 1 { return Array(repeating: a.values[0], count: count) }
                    throw fail(field + "/" + k, "LIF node '\(n.name)': \(a.count) values for \(count) neurons")
                }
                let r = try perNeuron("r", 1), vLeak = try perNeuron("v_leak", 0)
                let vTh = try perNeuron("v_threshold", nil), vReset = try perNeuron("v_reset", 0)
                guard tau.allSatisfy({ $0 > 0 && $0.isFinite }) else { throw fail(field + "/tau", "expected tau > 0") }
                guard let tau0 = NIRArray(tau).uniformValue() else {
                    throw fail(field + "/tau", "LIF node '\(n.name)' cannot be lowered yet: tau differs between neurons "
                               + "(a graph population has one decay)")
                }
                guard let th = NIRArray(vTh).uniformValue() else {
                    throw fail(field + "/v_threshold", "LIF node '\(n.name)' cannot be lowered yet: v_threshold differs between neurons")
                }
                if o.reset == .zero, vReset.contains(where: { $0 != 0 }) {
                    throw fail(field + "/v_reset", "LIF node '\(n.name)' cannot be lowered: v_reset is not 0 (the graph format resets to 0 or subtracts)")
                }
                let decay: Double, k: Double
                switch o.discretisation {
                case .exact: decay = exp(-o.dt / tau0); k = 1 - decay
                case .euler: decay = 1 - o.dt / tau0; k = o.dt / tau0
                }
                lifs[n.name] = LIFInfo(decay: decay, threshold: th, gain: r.map { $0 * k }, bias: vLeak.map { $0 * k })
                sizes[n.name] = count
                kinds[n.name] = .lif
            case .affine, .linear, .output:
                break
            default:
                throw fail(field, "node '\(n.name)' (\(n.type.rawValue)) cannot be lowered to the graph format yet "
                           + "(supported: Input, Affine, Linear, LIF, Output)")
            }
        }

        // Population-level edges: weights W[pre][post] already scaled by the post neuron's gain.
        struct Edge { var name: String; var pre: String; var post: String; var weights: [Double] }
        var pedges: [Edge] = []
        for n in nir.nodes {
            let field = "nodes/\(n.name)"
            switch n.type {
            case .affine, .linear:
                let ins = nir.edges(to: n.name), outs = nir.edges(from: n.name)
                guard ins.count == 1, let pre = ins.first?.source, let preSize = sizes[pre] else {
                    throw fail(field, "\(n.type.rawValue) node '\(n.name)' cannot be lowered yet: it needs exactly one "
                               + "input edge from an Input or LIF node")
                }
                guard let w = n.parameters["weight"], w.shape.count == 2 else {
                    throw fail(field + "/weight", "\(n.type.rawValue) node '\(n.name)': expected a 2-d weight (out x in)")
                }
                let nOut = w.shape[0], nIn = w.shape[1]
                guard nIn == preSize else {
                    throw fail(field + "/weight", "weight is \(nOut) x \(nIn) but input '\(pre)' has \(preSize) neurons")
                }
                var bias = [Double](repeating: 0, count: nOut)
                if n.type == .affine, let b = n.parameters["bias"] {
                    guard b.count == nOut else { throw fail(field + "/bias", "\(b.count) values for \(nOut) outputs") }
                    bias = b.values
                }
                for e in outs {
                    guard var info = lifs[e.target] else {
                        throw fail(field, "\(n.type.rawValue) node '\(n.name)' feeds '\(e.target)', which is not a LIF: "
                                   + "cannot be lowered yet")
                    }
                    guard sizes[e.target] == nOut else {
                        throw fail(field + "/weight", "weight has \(nOut) outputs but '\(e.target)' has \(sizes[e.target] ?? 0) neurons")
                    }
                    var m = [Double](repeating: 0, count: nIn * nOut)
                    for j in 0..<nOut { for i in 0..<nIn { m[i * nOut + j] = w.values[j * nIn + i] * info.gain[j] } }
                    for j in 0..<nOut { info.bias[j] += bias[j] * info.gain[j] }
                    lifs[e.target] = info
                    pedges.append(Edge(name: outs.count == 1 ? n.name : "\(n.name).\(e.target)", pre: pre, post: e.target, weights: m))
                }
            case .input, .lif:
                for e in nir.edges(from: n.name) {
                    guard let tn = nir.node(named: e.target) else { continue }
                    if tn.type == .lif, let info = lifs[e.target] {
                        let size = sizes[e.target] ?? 0
                        guard sizes[n.name] == size else {
                            throw fail(field, "edge \(n.name) -> \(e.target) connects \(sizes[n.name] ?? 0) to \(size) neurons without weights")
                        }
                        var m = [Double](repeating: 0, count: size * size)
                        for j in 0..<size { m[j * size + j] = info.gain[j] }
                        pedges.append(Edge(name: "\(n.name).\(e.target)", pre: n.name, post: e.target, weights: m))
                    }
                }
            case .output:
                for e in nir.edges(to: n.name) where kinds[e.source] == nil {
                    throw fail(field, "output '\(n.name)' is fed by '\(e.source)', which is not an Input or LIF: cannot be lowered yet")
                }
            default:
                break
            }
        }

        // Populations: inputs, then LIFs, each in node order; every LIF's bias must be uniform after folding Affine biases in.
        var populations: [Population] = []
        for n in nir.nodes.filter({ kinds[$0.name] == .input }) + nir.nodes.filter({ kinds[$0.name] == .lif }) {
            guard let kind = kinds[n.name], let size = sizes[n.name] else { continue }
            if let info = lifs[n.name] {
                guard let b = NIRArray(info.bias).uniformValue(relativeTolerance: 1e-9) ?? (info.bias.allSatisfy { $0 == 0 } ? 0 : nil) else {
                    throw fail("nodes/\(n.name)", "LIF node '\(n.name)' cannot be lowered yet: its bias (v_leak and "
                               + "Affine bias) differs between neurons (a graph population has one bias)")
                }
                populations.append(Population(name: n.name, kind: .lif, size: size, lif: LIFParameters(
                    decay: info.decay, threshold: info.threshold, reset: o.reset, bias: b)))
            } else {
                populations.append(Population(name: n.name, kind: kind, size: size))
            }
        }

        // Delay 1 on every edge that closes a cycle (depth-first from the inputs, in node order).
        var state: [String: Int] = [:]  // 1 on stack, 2 done
        var delayed = Set<Int>()
        func visit(_ p: String) {
            state[p] = 1
            for (i, e) in pedges.enumerated() where e.pre == p {
                if state[e.post] == 1 { delayed.insert(i) } else if state[e.post] == nil { visit(e.post) }
            }
            state[p] = 2
        }
        for p in populations where p.kind == .input { if state[p.name] == nil { visit(p.name) } }
        for p in populations where state[p.name] == nil { visit(p.name) }

        let projections = pedges.enumerated().map { i, e in
            Projection(name: e.name, from: e.pre, to: e.post, delay: delayed.contains(i) ? 1 : 0, weights: .dense(e.weights))
        }
        let g = Graph(name: o.name, timesteps: o.timesteps, populations: populations, projections: projections)
        try GraphValidator.validate(g, file: file)
        return g
    }
}
