import Foundation
import XbarCore

/// Reads and writes the graph JSON format (docs/graph.md). Reading validates everything and names the field.
public enum GraphJSON {
    /// Largest population accepted.
    public static let maxPopulation = 1 << 22
    /// Largest number of synapses one projection may materialise: pre x post, or pre x fanout for a fixed fan-out.
    public static let maxSynapses = 1 << 28

    public static func load(_ path: String) throws -> Graph {
        try parse(try AtomicFile.read(path), file: path)
    }

    public static func parse(_ data: Data, file: String) throws -> Graph {
        let root = try JSONReader.parse(data, file: file)
        try root.onlyKeys(["format", "version", "name", "timesteps", "populations", "projections", "readout", "example_input", "modulators"])
        let fmt = try root.field("format")
        guard try fmt.string() == "neuroxbar-graph" else { throw fmt.fail("expected \"neuroxbar-graph\"") }
        let ver = try root.field("version")
        guard try ver.int() == graphFormatVersion else {
            throw ver.fail("this tool reads graph format version \(graphFormatVersion), found \(try ver.int())")
        }
        var pops: [Population] = []
        for p in try root.field("populations").array() { pops.append(try population(p)) }
        var projs: [Projection] = []
        let sizes = Dictionary(pops.map { ($0.name, $0.size) }, uniquingKeysWith: { a, _ in a })
        for p in try root.field("projections").array() { projs.append(try projection(p, sizes: sizes)) }
        var readout: Readout? = nil
        if let r = try root.optionalField("readout") {
            try r.onlyKeys(["from", "classes", "weights", "bias"])
            let classes = try r.field("classes").int(min: 1, max: 1 << 16)
            var w: [Double]? = nil
            if let wr = try r.optionalField("weights") {
                let width = sizes[try r.field("from").string()]
                w = try matrix(wr, rows: classes, cols: width, what: "classes")
            }
            readout = Readout(from: try r.field("from").string(), classes: classes, weights: w,
                              bias: try r.optionalField("bias")?.doubles())
        }
        var g = Graph(name: try root.field("name").string(),
                      timesteps: try root.field("timesteps").int(min: 1, max: 1_000_000),
                      populations: pops, projections: projs, readout: readout,
                      exampleInput: try root.optionalField("example_input")?.string())
        g.modulators = try root.optionalField("modulators")?.array().map(Modulator.read) ?? []
        try GraphValidator.validate(g, file: file)
        return g
    }

    static func population(_ p: JSONReader) throws -> Population {
        let kind = try p.field("kind").enumValue(Population.Kind.self)
        let name = try p.field("name").string()
        let size = try p.field("size").int(min: 1, max: maxPopulation)
        switch kind {
        case .input:
            try p.onlyKeys(["name", "kind", "size"])
            return Population(name: name, kind: .input, size: size)
        case .lif:
            try p.onlyKeys(["name", "kind", "size", "decay", "threshold", "reset", "refractory", "bias", "compare",
                            "neuron_bias", "synapse", "spiking"])
            let spiking = try p.optionalField("spiking")?.bool() ?? true
            var synapse: SynapseParameters?
            if let s = try p.optionalField("synapse") {
                try s.onlyKeys(["decay", "bias", "neuron_bias"])
                synapse = SynapseParameters(decay: try s.field("decay").double(min: 0, max: 1),
                                            bias: try s.optionalField("bias")?.double(min: -1e12, max: 1e12) ?? 0,
                                            neuronBias: try neuronBias(s, size: size))
            }
            let lif = LIFParameters(
                decay: try p.field("decay").double(min: 0, max: 1),
                threshold: spiking ? try p.field("threshold").double(min: 1e-12, max: 1e12)
                                   : try p.optionalField("threshold")?.double(min: 1e-12, max: 1e12) ?? 1,
                reset: try p.optionalField("reset")?.enumValue(LIFParameters.Reset.self) ?? .zero,
                refractory: try p.optionalField("refractory")?.int(min: 0, max: 1 << 15) ?? 0,
                bias: try p.optionalField("bias")?.double(min: -1e12, max: 1e12) ?? 0,
                compare: try p.optionalField("compare")?.enumValue(LIFParameters.Compare.self) ?? .gt,
                neuronBias: try neuronBias(p, size: size), synapse: synapse, spiking: spiking)
            return Population(name: name, kind: .lif, size: size, lif: lif)
        default:
            return Population(name: name, kind: kind, size: size, model: try modelParameters(p, kind: kind.rawValue, size: size))
        }
    }

    /// The parameters of a registered neuron model: every key besides name, kind and size is a number, a list of one
    /// number per neuron or a word (a named choice); the model checks the keys when the population is compiled
    /// (docs/graph.md, "Neuron models").
    static func modelParameters(_ p: JSONReader, kind: String, size: Int) throws -> ModelParameterSet {
        var m = ModelParameterSet(model: kind)
        for key in try p.keys() where !["name", "kind", "size"].contains(key) {
            let f = try p.field(key)
            if f.isString {
                m.words[key] = try f.string()
            } else if f.isArray {
                let list = try f.doubles()
                if list.count != size { throw f.fail("expected \(size) values (one per neuron) or one number, found \(list.count)") }
                if let bad = list.first(where: { !(abs($0) <= 1e12) }) { throw f.fail("value \(bad) is outside -1e12...1e12") }
                m.perNeuron[key] = list
            } else {
                m.scalars[key] = try f.double(min: -1e12, max: 1e12)
            }
        }
        return m
    }

    /// An optional per-neuron bias list (`neuron_bias`), which must have one value per neuron.
    static func neuronBias(_ r: JSONReader, size: Int) throws -> [Double]? {
        guard let f = try r.optionalField("neuron_bias") else { return nil }
        let v = try f.doubles()
        if v.count != size { throw f.fail("expected \(size) values (one per neuron), found \(v.count)") }
        if let bad = v.first(where: { !(abs($0) <= 1e12) }) { throw f.fail("value \(bad) is outside -1e12...1e12") }
        return v
    }

    /// A matrix given as rows; refuses a wrong row count or row width (catches transposed matrices).
    static func matrix(_ m: JSONReader, rows: Int?, cols: Int?, what: String) throws -> [Double] {
        let rs = try m.array()
        if let n = rows, rs.count != n { throw m.fail("expected \(n) rows (one per \(what)), found \(rs.count)") }
        var flat: [Double] = []
        for row in rs {
            let r = try row.doubles()
            if let c = cols, r.count != c { throw row.fail("row has \(r.count) values, expected \(c)") }
            if let first = rs.first, cols == nil, r.count != (try first.doubles()).count { throw row.fail("rows differ in length") }
            flat += r
        }
        return flat
    }

    static func projection(_ p: JSONReader, sizes: [String: Int]) throws -> Projection {
        try p.onlyKeys(["name", "from", "to", "delay", "weights", "plasticity"])
        let from = try p.field("from").string()
        let to = try p.field("to").string()
        let name = try p.optionalField("name")?.string() ?? "\(from)->\(to)"
        var pr = Projection(name: name, from: from, to: to, delay: try p.optionalField("delay")?.int(min: 0, max: maxProjectionDelay) ?? 0,
                            weights: try weights(try p.field("weights"), pre: sizes[from], post: sizes[to]))
        pr.plasticity = try p.optionalField("plasticity").map(PlasticityRule.read)
        return pr
    }

    static func seed(_ r: JSONReader) throws -> UInt64 { UInt64(try r.int(min: 0, max: 1 << 53)) }

    static func weights(_ w: JSONReader, pre: Int?, post: Int?) throws -> WeightSpec {
        let kind = try w.field("kind").string()
        switch kind {
        case "dense":
            try w.onlyKeys(["kind", "values"])
            return .dense(try matrix(try w.field("values"), rows: pre, cols: post, what: "presynaptic neuron"))
        case "sparse":
            try w.onlyKeys(["kind", "entries"])
            var entries: [SparseEntry] = []
            for e in try w.field("entries").array() {
                let t = try e.doubles(maxCount: 3)
                guard t.count == 3, t[0] == t[0].rounded(), t[1] == t[1].rounded(), t[0] >= 0, t[1] >= 0, t[0] < 1e9, t[1] < 1e9
                else { throw e.fail("expected [pre, post, weight] with non-negative integer indices") }
                entries.append(SparseEntry(pre: Int(t[0]), post: Int(t[1]), weight: t[2]))
            }
            return .sparse(entries)
        case "random":
            try w.onlyKeys(["kind", "distribution", "mean", "std", "low", "high", "gain", "density", "fanout", "seed", "no_self"])
            let dist = try w.field("distribution").enumValue(RandomWeights.Distribution.self)
            let a: Double, b: Double
            switch dist {
            case .normal:
                a = try w.optionalField("mean")?.double() ?? 0
                b = try w.optionalField("std")?.double(min: 0, max: 1e12) ?? 1
            case .uniform:
                a = try w.field("low").double()
                b = try w.field("high").double()
                guard b >= a else { throw try w.field("high").fail("must be >= low (\(a))") }
            }
            let fanout = try w.optionalField("fanout")?.int(min: 0, max: maxPopulation)
            if fanout != nil, let d = try w.optionalField("density") { throw d.fail("give either density or fanout, not both") }
            return .random(RandomWeights(distribution: dist, a: a, b: b,
                                         gain: try w.optionalField("gain")?.double() ?? 1,
                                         density: try w.optionalField("density")?.double(min: 0, max: 1) ?? 1,
                                         seed: try seed(try w.field("seed")),
                                         noSelf: try w.optionalField("no_self")?.bool() ?? false, fanout: fanout))
        case "spatial":
            try w.onlyKeys(["kind", "grid", "lambda", "c", "w", "inhibitory_fraction", "gain", "seed"])
            let gridR = try w.field("grid")
            let g3 = try gridR.doubles(maxCount: 3)
            guard g3.count == 3, g3.allSatisfy({ $0 >= 1 && $0 <= 1024 && $0 == $0.rounded() }) else {
                throw gridR.fail("expected [X, Y, Z] of integers in 1...1024")
            }
            let grid = g3.map { Int($0) }
            func quad(_ k: String, _ lo: Double, _ hi: Double) throws -> [Double] {
                let r = try w.field(k)
                try r.onlyKeys(["ee", "ei", "ie", "ii"])
                return try ["ee", "ei", "ie", "ii"].map { try r.field($0).double(min: lo, max: hi) }
            }
            return .spatial(SpatialWeights(grid: grid, lambda: try w.field("lambda").double(min: 1e-6, max: 1e6),
                                           c: try quad("c", 0, 1), w: try quad("w", 0, 1e12),
                                           inhibitoryFraction: try w.field("inhibitory_fraction").double(min: 0, max: 1),
                                           gain: try w.optionalField("gain")?.double() ?? 1,
                                           seed: try seed(try w.field("seed"))))
        default:
            throw try w.field("kind").fail("expected \"dense\", \"sparse\", \"random\" or \"spatial\", found \"\(kind)\"")
        }
    }
}
